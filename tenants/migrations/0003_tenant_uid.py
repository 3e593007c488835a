import secrets
import string

from django.db import migrations, models

import tenants.models


def tenant_uids_fill(apps, schema_editor):
    Tenant = apps.get_model("tenants", "Tenant")
    alphabet = string.ascii_lowercase + string.digits
    for pk in Tenant.objects.filter(uid__isnull=True).values_list("pk", flat=True).iterator():
        uid = "".join(secrets.choice(alphabet) for _ in range(12))
        Tenant.objects.filter(pk=pk).update(uid=uid)


class Migration(migrations.Migration):
    dependencies = [("tenants", "0002_tenant_newest_jobs")]

    operations = [
        migrations.AddField(
            model_name="tenant",
            name="uid",
            field=models.CharField(editable=False, max_length=12, null=True),
        ),
        migrations.RunPython(tenant_uids_fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="tenant",
            name="uid",
            field=models.CharField(
                default=tenants.models.tenant_uid_new, editable=False, max_length=12, unique=True
            ),
        ),
    ]
