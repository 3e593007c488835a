from django.db import migrations, models


def ops_roles_create(apps, schema_editor):
    """The viewer, operator and administrator groups, with the permissions that exist by now.
    On an existing database that is all of them; on a new one the permissions are created
    after the last migration, and core's post_migrate receiver completes the groups then
    (core.ops_roles)."""
    from core.ops_roles import ops_roles_sync

    ops_roles_sync(apps=apps, using=schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.CreateModel(
            name="AdminAction",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
            ],
            options={
                "permissions": [
                    (
                        "run_tenant_actions",
                        "Can run actions on tenants (provision, repair, deprovision, revoke "
                        "connect links, run flows)",
                    ),
                    ("run_job_actions", "Can retry and cancel jobs"),
                    ("run_delivery_actions", "Can replay webhook deliveries"),
                    ("run_rollout_actions", "Can pause, resume, abort and roll back rollouts"),
                    ("run_orphan_actions", "Can delete orphans in integrator.io or adopt them"),
                ],
                "managed": False,
                "default_permissions": (),
            },
        ),
        migrations.RunPython(ops_roles_create, migrations.RunPython.noop),
    ]
