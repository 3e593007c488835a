import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import core.models


def default_account_backfill(apps, schema_editor):
    """Orphans found before they recorded their account were found in the default account
    (the only one the scan covered): they are placed on it. The default account is made as
    tenants' migration 0010 makes it when it is missing, so that the field's default below
    (core.models.integrator_account_default_pk) only reads its id."""
    Orphan = apps.get_model("provisioning", "Orphan")
    db = schema_editor.connection.alias
    IntegratorAccount = apps.get_model("core", "IntegratorAccount")
    account = IntegratorAccount.objects.using(db).filter(is_default=True).first()
    if account is None:
        # The same rule as core.accounts.region_of_url, written out so that this migration
        # never changes with the application code.
        url = settings.INTEGRATOR_API_URL.rstrip("/")
        region = "eu" if "://api.eu." in url or url.endswith("/eu/v1") else "us"
        account = IntegratorAccount.objects.using(db).create(
            key="default", name="Default account", region=region, is_default=True
        )
    Orphan.objects.using(db).filter(account__isnull=True).update(account=account)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0003_integrator_accounts"),
        ("provisioning", "0005_outage_window"),
    ]

    operations = [
        # Nullable first, filled by the historical models, then required with the default:
        # adding it with the default at once would call the application's code (which may
        # make the default account with today's model) in the middle of migrating.
        migrations.AddField(
            model_name="orphan",
            name="account",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="orphans",
                to="core.integratoraccount",
            ),
        ),
        migrations.RunPython(default_account_backfill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="orphan",
            name="account",
            field=models.ForeignKey(
                default=core.models.integrator_account_default_pk,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="orphans",
                to="core.integratoraccount",
            ),
        ),
    ]
