"""Integration templates, the tenants provisioned from them, and their connections.

Business rules (validation, status transitions, merging settings) live in `tenants.services`;
the models only describe what is stored.
"""

import secrets
import string
import uuid

from django.db import models
from django.db.models import Q

from core.models import IntegratorAccount, integrator_account_default_pk


class IntegrationTemplate(models.Model):
    """An integrator.io integration kept in the account as the master copy for tenants.

    `slots` lists the connections a tenant must supply (see `tenants.services.templates` for
    their shape); `settings_schema` is a JSON Schema whose defaults are the tenant's starting
    settings. Both are validated by `template_validate` before they are saved.
    """

    key = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    source_integration_id = models.CharField(
        max_length=64,
        help_text="The integrator.io integration that each tenant's copy is cloned from.",
    )
    # The integrator.io account the source integration lives in: every tenant of the template
    # is cloned there and stays there (a clone never crosses accounts).
    account = models.ForeignKey(
        IntegratorAccount,
        on_delete=models.PROTECT,
        related_name="templates",
        default=integrator_account_default_pk,
    )
    version = models.CharField(max_length=32, default="1")
    is_active = models.BooleanField(default=True)
    # What the periodic drift check does when a tenant's integration differs from its
    # version: report it (the default: a person decides), or reconcile it at once.
    drift_action = models.CharField(
        max_length=8, choices=[("report", "Report"), ("repair", "Repair")], default="report"
    )
    slots = models.JSONField(default=list, blank=True)
    settings_schema = models.JSONField(default=dict, blank=True)
    # The template's own texts in other languages, {language: {English text: translation}}
    # (its name, slot and field labels, help, settings titles, flow names: docs/i18n.md). Kept
    # with the template, not a version: wording changes without republishing.
    translations = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        # Without its newest version: where a template is named beside a tenant (its page, the
        # list's filter), that version is not the tenant's (its template_version says that).
        return f"{self.name} ({self.key})"

    def slot(self, slot_key: str) -> dict | None:
        for slot in self.slots:
            if slot.get("key") == slot_key:
                return slot
        return None


class TemplateVersion(models.Model):
    """One published version of a template: what a tenant's integration is built from.

    Immutable once published (`tenants.services.templates.template_load` refuses the same
    version with other content): a tenant points at the version its integration was built
    to, so publishing a new one changes no tenant until it is rolled out to them. The
    template row keeps its newest version's content for new tenants.

    `settings_mapping` says where each setting lands (see `tenants.settings_mapping`);
    `snapshot` is the template integration as integrator.io held it at publishing (flows,
    exports, imports; secrets as integrator.io masks them), empty when published offline.
    """

    template = models.ForeignKey(
        IntegrationTemplate, on_delete=models.CASCADE, related_name="versions"
    )
    version = models.CharField(max_length=32)
    source_integration_id = models.CharField(max_length=64)
    slots = models.JSONField(default=list, blank=True)
    settings_schema = models.JSONField(default=dict, blank=True)
    settings_mapping = models.JSONField(default=list, blank=True)
    snapshot = models.JSONField(default=dict, blank=True)
    # What the customer may change on their integration page (connect/portal):
    # {"settings": [top-level setting names], "flows": [paths of flow switch settings]}.
    # Validated with the document (tenants.services.portal_access); empty: nothing.
    portal = models.JSONField(default=dict, blank=True)
    # sha256 of the content above but the snapshot: what "the same version" means.
    digest = models.CharField(max_length=64)
    published_at = models.DateTimeField(auto_now_add=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["template", "-published_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["template", "version"], name="template_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.template.key} v{self.version}"

    # A version answers the questions a template does, for the tenants built from it.
    @property
    def key(self) -> str:
        return self.template.key

    @property
    def name(self) -> str:
        return self.template.name

    def slot(self, slot_key: str) -> dict | None:
        for slot in self.slots:
            if slot.get("key") == slot_key:
                return slot
        return None


class TenantStatus(models.TextChoices):
    AWAITING_CREDENTIALS = "awaiting_credentials", "Awaiting credentials"
    PROVISIONING = "provisioning", "Provisioning"
    ACTIVE = "active", "Active"
    DEGRADED = "degraded", "Degraded"
    FAILED = "failed", "Failed"
    DEPROVISIONING = "deprovisioning", "Deprovisioning"
    DEPROVISIONED = "deprovisioned", "Deprovisioned"


def _job_pointer() -> models.ForeignKey:
    return models.ForeignKey(
        "provisioning.Job",
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )


def tenant_uid_new() -> str:
    """Twelve lowercase letters and digits (62 bits): the tenant's id in integrator.io marks."""
    alphabet = string.ascii_lowercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(12))


class Tenant(models.Model):
    """One customer of the host app, identified by the host app's own id (`external_id`).

    A customer who leaves and comes back gets a new row, a new *incarnation*: registering a
    deprovisioned tenant's external id again supersedes the old row (`superseded_at`), which
    stays, with its jobs and runs, as history. At most one row per external id is current
    (not superseded); the API always means that one.
    """

    external_id = models.CharField(max_length=128)
    incarnation = models.PositiveIntegerField(default=1, editable=False)
    superseded_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The tenant's id in the marks on its integrator.io resources (core.remote_marks): random,
    # so that it never repeats in another deployment or after a database restore the way a
    # row id does.
    uid = models.CharField(max_length=12, unique=True, default=tenant_uid_new, editable=False)
    name = models.CharField(max_length=200)
    template = models.ForeignKey(
        IntegrationTemplate, on_delete=models.PROTECT, related_name="tenants"
    )
    # The integrator.io account the tenant's integration and connections live in: its
    # template's when it was registered (tenants.services.tenants), never changed after.
    account = models.ForeignKey(
        IntegratorAccount,
        on_delete=models.PROTECT,
        related_name="tenants",
        default=integrator_account_default_pk,
        editable=False,
    )
    # The version the tenant's integration is built to (its slots, settings schema and
    # mapping are the tenant's); a newer one reaches it only by a rollout.
    template_version = models.ForeignKey(
        TemplateVersion, on_delete=models.PROTECT, related_name="tenants"
    )
    # Pinned: rollouts leave the tenant on its version (and say so); an upgrade asked for
    # this tenant alone still runs.
    version_pinned = models.BooleanField(default=False)
    status = models.CharField(
        max_length=32, choices=TenantStatus.choices, default=TenantStatus.AWAITING_CREDENTIALS
    )
    # Only the tenant's own overrides; defaults come from its version's schema, so that a new
    # version rolled out changes every tenant that did not choose otherwise.
    settings = models.JSONField(default=dict, blank=True)
    integration_id = models.CharField(max_length=64, blank=True)
    allowed_origins = models.JSONField(default=list, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    status_changed_at = models.DateTimeField(auto_now_add=True)
    # The tenant's two newest jobs, set when a job is created and never changed after (see
    # provisioning.services.jobs): at most one job of a tenant is unfinished and it is always
    # the newest, so these two hold its current job and its last finished one. The status
    # views join them instead of searching the job table for every page of tenants.
    latest_job = _job_pointer()
    previous_job = _job_pointer()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"],
                condition=Q(superseded_at__isnull=True),
                name="tenant_external_id_current",
                violation_error_message="A current tenant with this external_id exists.",
            ),
            models.UniqueConstraint(
                fields=["external_id", "incarnation"], name="tenant_external_id_incarnation"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "-created_at", "-id"], name="tenant_status_created"),
            models.Index(fields=["template", "-created_at", "-id"], name="tenant_template_created"),
            models.Index(fields=["-created_at", "-id"], name="tenant_created"),
            # A rollout's plan reads one template's current tenants by external id
            # (rollouts.plan.rollout_candidates): in order, and only that template's.
            models.Index(
                fields=["template", "external_id"],
                condition=Q(superseded_at__isnull=True),
                name="tenant_template_extid_current",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.external_id})"


class ConnectionStatus(models.TextChoices):
    MISSING = "missing", "Missing"
    OK = "ok", "OK"
    FAILED = "failed", "Failed"


class TenantConnection(models.Model):
    """A tenant's connection for one slot of its template. Never holds a secret:
    `field_values` keeps only the values of non-password fields."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="connections")
    slot_key = models.SlugField(max_length=64)
    connection_id = models.CharField(max_length=64, blank=True)
    status = models.CharField(
        max_length=16, choices=ConnectionStatus.choices, default=ConnectionStatus.MISSING
    )
    last_ping_at = models.DateTimeField(null=True, blank=True)
    last_ping_error = models.TextField(blank=True)
    field_values = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["tenant", "slot_key"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "slot_key"], name="tenant_connection_slot")
        ]

    def __str__(self) -> str:
        return f"{self.tenant.external_id}/{self.slot_key}"


class PortalSection(models.TextChoices):
    """The parts of the customer's integration page a link may show (connect/portal)."""

    CONNECTIONS = "connections", "Connections"
    SETTINGS = "settings", "Settings"
    FLOWS = "flows", "Flows"
    RUNS = "runs", "Runs and errors"


class ConnectLink(models.Model):
    """A signed link to the credential form. The token carries `id`; this row makes links
    revocable and records where the form may send the user back to.

    A link with `sections` opens the customer's integration page (the portal) showing those
    sections; without any, the credential form as before. `read_only` refuses every change
    made through the link; `locale` is the language its pages speak (empty: the browser's).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="connect_links")
    slot_key = models.SlugField(max_length=64, blank=True)
    return_url = models.URLField(max_length=2000, blank=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sections = models.JSONField(default=list, blank=True)
    read_only = models.BooleanField(default=False)
    locale = models.CharField(max_length=16, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["tenant", "expires_at"],
                condition=Q(revoked_at__isnull=True),
                name="connect_link_open",
            )
        ]

    def __str__(self) -> str:
        # The tenant by its external id, as everywhere ops and the host app read it: its row
        # id ("for 1") names nothing they know.
        return f"connect link {self.id} for {self.tenant.external_id}"


class CallPurpose(models.TextChoices):
    """What an integrator.io call was made for, as counted per tenant (TenantCallCount)."""

    PROVISION = "provision", "Provision"
    UPGRADE = "upgrade", "Upgrade"
    SETTINGS = "settings", "Settings"
    REPAIR = "repair", "Repair"
    DEPROVISION = "deprovision", "Deprovision"
    SYNC = "sync", "Run sync"
    CHECK = "check", "Connection checks"
    # Credentials checked before they are saved: typed in the customer's form, or handed over
    # by the host app (PUT /tenants/{id}/connections/{slot}); both count here.
    FORM = "form", "Credentials (form or API)"
    PLAN = "plan", "Plan and drift"
    RUNS = "runs", "Runs on demand and their errors"


class TenantCallCount(models.Model):
    """integrator.io calls (HTTP attempts, retries included) made for one tenant, for one
    purpose, on one UTC day: what each customer costs against the account's budget.

    Written in bulk, one upsert per job flush, run-sync batch, form submission or request on
    a run (tenants.call_costs), never one UPDATE per call; kept CALL_COUNTS_RETENTION_DAYS."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="call_counts")
    purpose = models.CharField(max_length=16, choices=CallPurpose.choices)
    day = models.DateField()
    calls = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "purpose", "day"], name="tenant_call_count_once"
            )
        ]
        indexes = [models.Index(fields=["day"], name="tenant_call_count_day")]

    def __str__(self) -> str:
        return f"{self.tenant_id} {self.purpose} {self.day}: {self.calls}"


class TenantCallRanking(Tenant):
    """The tenants ranked by their integrator.io calls (an admin list; no table of its own)."""

    class Meta:
        proxy = True
        verbose_name = "tenant by integrator.io calls"
        verbose_name_plural = "top tenants by integrator.io calls"


class OAuthClientRecord(models.Model):
    """The host's OAuth client for one app (`oauth.client` in a template), kept by an admin
    rather than in OAUTH_CLIENTS. The secret is stored encrypted (core.encryption, keys from
    ENCRYPTION_KEYS, never the database) and bound to this row: see tenants.oauth_clients."""

    provider_key = models.SlugField(max_length=64, unique=True)
    client_id = models.CharField(max_length=500)
    # Where the secret may go: the app's token endpoint, for the code exchange and for
    # integrator.io's refreshes. A template's OAuth slot must name this one (a template's editor
    # cannot send the secret elsewhere); it moves only with the secret typed again.
    token_url = models.URLField(max_length=2000, blank=True)
    # `v1.<key id>.<ciphertext>`; empty until a secret is set.
    client_secret_encrypted = models.TextField(blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["provider_key"]
        verbose_name = "OAuth client"

    def __str__(self) -> str:
        return f"OAuth client {self.provider_key}"
