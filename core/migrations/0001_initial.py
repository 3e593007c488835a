import secrets

from django.db import migrations, models
from django.utils import timezone


def deployment_table_create(apps, schema_editor):
    # The model is unmanaged (see core.models), so CreateModel alone would not create it.
    Deployment = apps.get_model("core", "Deployment")
    schema_editor.create_model(Deployment)


def deployment_table_drop(apps, schema_editor):
    schema_editor.delete_model(apps.get_model("core", "Deployment"))


def deployment_row_create(apps, schema_editor):
    # The same shape as core.deployment.identity_new(), written out so that this migration
    # never changes with the application code.
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    identity = secrets.choice(alphabet[:26]) + "".join(secrets.choice(alphabet) for _ in range(9))
    Deployment = apps.get_model("core", "Deployment")
    Deployment.objects.using(schema_editor.connection.alias).get_or_create(
        id=1, defaults={"identity": identity, "created_at": timezone.now()}
    )


class Migration(migrations.Migration):
    initial = True
    dependencies = []

    operations = [
        migrations.CreateModel(
            name="Deployment",
            fields=[
                (
                    "id",
                    models.PositiveSmallIntegerField(
                        default=1, editable=False, primary_key=True, serialize=False
                    ),
                ),
                ("identity", models.CharField(editable=False, max_length=16, unique=True)),
                ("created_at", models.DateTimeField(editable=False)),
                ("rekeyed_from", models.CharField(blank=True, editable=False, max_length=16)),
            ],
            options={"db_table": "core_deployment", "managed": False},
        ),
        migrations.RunPython(deployment_table_create, deployment_table_drop),
        migrations.RunPython(deployment_row_create, migrations.RunPython.noop),
    ]
