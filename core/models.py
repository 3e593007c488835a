"""The deployment: one row that says which installation of the service this database is.

Everything the service writes to integrator.io carries the deployment's `identity` (see
`core.remote_marks`), and every Redis key and Celery queue lives under it (`core.namespace`), so
that two deployments sharing an integrator.io account or a Redis server never touch each
other's resources, tasks or keys.

The row is written by the migration that creates the table (or at first start, if it is
missing) and never changes afterwards, except by `manage.py deployment_rekey` for a restored
copy of another deployment's database.
"""

from django.db import models


class Deployment(models.Model):
    # Always 1: there is exactly one row.
    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    identity = models.CharField(max_length=16, unique=True, editable=False)
    created_at = models.DateTimeField(editable=False)
    rekeyed_from = models.CharField(max_length=16, blank=True, editable=False)

    class Meta:
        # Unmanaged, so that `manage.py flush` (and the test runner's flush between tests)
        # keeps it: wiping the tenants does not make the resources this deployment left in
        # integrator.io anyone else's, and the orphan report still has to recognise them.
        # The table is created by migration 0001 all the same.
        managed = False
        db_table = "core_deployment"

    def __str__(self) -> str:
        return f"deployment {self.identity}"


class AdminAction(models.Model):
    """No rows and no table: the holder of the permissions that guard the admin's actions
    (each action names one, `@admin.action(permissions=[...])`, and the ModelAdmin answers it
    with core.admin_permissions). They are granted through the ops roles (core.ops_roles)."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            (
                "run_tenant_actions",
                "Can run actions on tenants (provision, repair, deprovision, revoke connect "
                "links, run flows)",
            ),
            ("run_job_actions", "Can retry and cancel jobs"),
            ("run_delivery_actions", "Can replay webhook deliveries"),
            ("run_rollout_actions", "Can pause, resume, abort and roll back rollouts"),
            ("run_orphan_actions", "Can delete orphans in integrator.io or adopt them"),
        ]

    def __str__(self) -> str:
        return "admin action"
