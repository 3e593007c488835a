import django.db.models.deletion
from django.db import migrations, models

import core.models


def default_account_backfill(apps, schema_editor):
    """Orphans found before they recorded their account were found in the default account
    (the only one the scan covered): they are placed on it. Tenants' migration 0010 made
    that account, so the field's default below (core.models.integrator_account_default_pk)
    only reads its id."""
    Orphan = apps.get_model("provisioning", "Orphan")
    IntegratorAccount = apps.get_model("core", "IntegratorAccount")
    db = schema_editor.connection.alias
    account = IntegratorAccount.objects.using(db).get(is_default=True)
    Orphan.objects.using(db).filter(account__isnull=True).update(account=account)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0003_integrator_accounts"),
        ("provisioning", "0005_outage_window"),
        ("tenants", "0010_tenant_accounts"),
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
