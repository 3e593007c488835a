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

from core.http_urls import http_url_validate


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
            (
                "run_rollout_actions",
                "Can pause, resume, abort and roll back rollouts, and pin or unpin tenants",
            ),
            ("run_orphan_actions", "Can delete orphans in integrator.io or adopt them"),
        ]

    def __str__(self) -> str:
        return "admin action"


class IntegratorRegion(models.TextChoices):
    """integrator.io's regions: a token works only in its own (docs/integrator-io.md)."""

    US = "us", "North America (api.integrator.io)"
    EU = "eu", "Europe (api.eu.integrator.io)"


class IntegratorAccount(models.Model):
    """One integrator.io account the service talks to: its region, its API token (encrypted,
    bound to this row: core.accounts), and its own rate limit, circuit breaker and pause.

    Templates belong to an account (their source integration lives there) and a tenant stays
    on its template's account. The *default* account is the one of the settings
    (INTEGRATOR_API_URL, INTEGRATOR_API_TOKEN): it is created on first use with no token
    stored, and reads both from the environment for as long as none is stored, so a
    deployment configured by environment keeps working unchanged.
    """

    key = models.SlugField(
        max_length=32, unique=True, help_text="Fixed once made: it names the row in Redis keys."
    )
    name = models.CharField(max_length=200)
    region = models.CharField(
        max_length=4, choices=IntegratorRegion.choices, default=IntegratorRegion.US
    )
    # Empty: the region's API URL from settings (INTEGRATOR_US_API_URL / _EU_); the default
    # account: INTEGRATOR_API_URL. Checked as every URL the service calls (core.http_urls), in
    # its words: Django's URLField took a user name and password (kept and shown in clear) and
    # IPv6 literals, and refused a host of one label (a sandbox reached by its container name).
    api_url = models.CharField(
        max_length=300, blank=True, validators=[http_url_validate], verbose_name="API URL override"
    )
    # `v1.<key id>.<ciphertext>` (core.encryption), bound to this row's id; never shown.
    token_encrypted = models.TextField(blank=True, editable=False)
    is_default = models.BooleanField(default=False, editable=False)
    # Empty: INTEGRATOR_RATE_LIMIT_PER_SECOND / _BURST.
    rate_limit_per_second = models.FloatField(null=True, blank=True)
    rate_limit_burst = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        # As the README and docs/integrator-io.md name the admin's page.
        verbose_name = "integrator.io account"
        verbose_name_plural = "integrator.io accounts"
        ordering = ["-is_default", "key"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=models.Q(is_default=True),
                name="integrator_account_one_default",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.key}, {self.region})"


def integrator_account_default_pk() -> int:
    """The default account's id, the row made if missing: the default of every template's
    and tenant's account, so that rows made without naming one land where the settings
    point, as they always did."""
    from core.accounts import integrator_account_default

    # The id alone first: tenants' migration 0010 calls this (through the field's default)
    # with the model of today, which may hold columns a later migration has not added yet.
    pk = IntegratorAccount.objects.filter(is_default=True).values_list("pk", flat=True).first()
    return pk if pk is not None else integrator_account_default().pk
