import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import core.models


def default_account_backfill(apps, schema_editor):
    """The deployment's single account of old becomes the default account, and every template
    and tenant is placed on it. Its token is not copied: the default account reads
    INTEGRATOR_API_TOKEN (and INTEGRATOR_API_URL) from the environment as before, so nothing
    changes for a running deployment and no token is written to the database."""
    IntegratorAccount = apps.get_model("core", "IntegratorAccount")
    db = schema_editor.connection.alias
    # The same rule as core.accounts.region_of_url, written out so that this migration never
    # changes with the application code.
    url = settings.INTEGRATOR_API_URL.rstrip("/")
    region = "eu" if "://api.eu." in url or url.endswith("/eu/v1") else "us"
    account = IntegratorAccount.objects.using(db).filter(is_default=True).first()
    if account is None:
        account = IntegratorAccount.objects.using(db).create(
            key="default", name="Default account", region=region, is_default=True
        )
    for name in ("IntegrationTemplate", "Tenant"):
        apps.get_model("tenants", name).objects.using(db).filter(account__isnull=True).update(
            account=account
        )


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0003_integrator_accounts"),
        ("tenants", "0009_oauth_client_records"),
    ]

    operations = [
        migrations.AddField(
            model_name="integrationtemplate",
            name="account",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="templates",
                to="core.integratoraccount",
            ),
        ),
        migrations.AddField(
            model_name="tenant",
            name="account",
            field=models.ForeignKey(
                null=True,
                editable=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="tenants",
                to="core.integratoraccount",
            ),
        ),
        migrations.RunPython(default_account_backfill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="integrationtemplate",
            name="account",
            field=models.ForeignKey(
                default=core.models.integrator_account_default_pk,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="templates",
                to="core.integratoraccount",
            ),
        ),
        migrations.AlterField(
            model_name="tenant",
            name="account",
            field=models.ForeignKey(
                default=core.models.integrator_account_default_pk,
                editable=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="tenants",
                to="core.integratoraccount",
            ),
        ),
    ]
