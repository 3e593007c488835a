"""Provisioning jobs, their steps, and the integrator.io calls each step made.

A `Job` row is the operation and its outbox at once: it is written in the caller's
transaction, and its Celery message is sent only once that transaction commits. The rules
(claiming, fencing, transitions) live in `provisioning.services`; the models only describe
what is stored.
"""

import uuid

from django.db import models
from django.db.models import Q

from core.leases import Leased
from core.models import integrator_account_default_pk


class JobKind(models.TextChoices):
    PROVISION = "provision", "Provision"
    UPDATE_SETTINGS = "update_settings", "Update settings"
    REPAIR = "repair", "Repair"
    DEPROVISION = "deprovision", "Deprovision"
    # Reconcile the tenant's integration to another version of its template (a rollout's
    # step, or a rollback): Job.target_version.
    UPGRADE = "upgrade", "Change version"


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELED = "canceled", "Canceled"


UNFINISHED_JOB_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING)


class JobOrigin(models.TextChoices):
    """What asked for the job."""

    API = "api", "Host app API"
    FORM = "form", "Credential form"
    ADMIN = "admin", "Admin"
    SCHEDULE = "schedule", "Schedule"
    # The customer's integration page (connect/portal_*.py): settings and flow switches.
    PORTAL = "portal", "Integration page"
    # A rollout's waves and its rollback (rollouts.driver).
    ROLLOUT = "rollout", "Rollout"


class Job(Leased):
    """One provisioning operation on one tenant.

    Lease (core.leases, the scheme every leased row uses): a worker owns the job while
    `lease_expires_at` is in the future. Claiming bumps `lease_generation`, and every later
    write by that worker is conditional on the generation it claimed (a fencing token), so a
    worker that lost its lease cannot overwrite anything. The engine's claim and renewal are
    written in SQL for speed (provisioning.job_progress), to the same rules.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.PROTECT, related_name="jobs")
    kind = models.CharField(max_length=32, choices=JobKind.choices)
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    requested_by = models.CharField(max_length=16, choices=JobOrigin.choices)
    # Task runs that claimed the job, across retries, redeliveries and sweeps. Those that were
    # not postponed by integrator.io being unavailable (`outage_retries`) count against the
    # attempts cap, which is what stops a poison job.
    attempts = models.PositiveIntegerField(default=0)
    # Runs that ended postponed because integrator.io was unavailable: they do not spend the
    # attempts cap; the retry window bounds them instead.
    outage_retries = models.PositiveIntegerField(default=0)
    # When this job first had to wait for integrator.io: the start of its retry window
    # (PROVISIONING_RETRY_WINDOW_SECONDS). Kept in the row so that the window survives
    # restarts and redeliveries; cleared by a retry from the API or admin.
    waiting_since = models.DateTimeField(null=True, blank=True)
    # When the job should next run: creation, or a retry's countdown. A queued job left
    # unclaimed well past it lost its message, and the sweeper sends another.
    due_at = models.DateTimeField()
    lease_owner = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    # For an upgrade: the version the tenant moves to (its template_version once it succeeds).
    target_version = models.ForeignKey(
        "tenants.TemplateVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant"],
                condition=Q(status__in=UNFINISHED_JOB_STATUSES),
                name="job_one_unfinished_per_tenant",
                violation_error_message="This tenant already has an unfinished job.",
            )
        ]
        indexes = [
            models.Index(fields=["tenant", "-created_at"], name="job_tenant_created"),
            models.Index(
                fields=["status", "due_at"],
                condition=Q(status__in=UNFINISHED_JOB_STATUSES),
                name="job_unfinished_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} job {self.id} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status not in UNFINISHED_JOB_STATUSES

    @property
    def attempts_spent(self) -> int:
        """The runs that count against the attempts cap (PROVISIONING_MAX_ATTEMPTS): every
        claim except those that ended postponed by an outage (`outage_retries`). What people
        are shown as the job's attempts."""
        return self.attempts - self.outage_retries

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class StepStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"


FINISHED_STEP_STATUSES = (StepStatus.SUCCEEDED, StepStatus.SKIPPED)


class JobStep(models.Model):
    """One step of a job, created with the job so the whole plan is visible from the start."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="steps")
    name = models.CharField(max_length=32)
    position = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=16, choices=StepStatus.choices, default=StepStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Ids created or adopted and what changed; also the step's recovery notes (e.g. the
    # clone intent), so never secrets.
    output = models.JSONField(default=dict, blank=True)
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)

    class Meta:
        ordering = ["job", "position"]
        constraints = [
            models.UniqueConstraint(fields=["job", "position"], name="job_step_position"),
            models.UniqueConstraint(fields=["job", "name"], name="job_step_name"),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.name} ({self.status})"


class ApiCall(models.Model):
    """One HTTP attempt to integrator.io made by a step. Never bodies, never headers."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="api_calls")
    step = models.ForeignKey(JobStep, on_delete=models.CASCADE, related_name="api_calls")
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=500)
    # None when no response arrived (timeout, dropped connection, our limiter refused).
    status = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.FloatField()
    attempt = models.PositiveSmallIntegerField()
    error_code = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["job", "step"], name="api_call_job_step")]

    def __str__(self) -> str:
        return f"{self.method} {self.path} -> {self.status}"


class OrphanKind(models.TextChoices):
    INTEGRATION = "integration", "Integration no tenant owns"
    DUPLICATE_INTEGRATION = "duplicate_integration", "Duplicate of a tenant's integration"
    CONNECTION = "connection", "Connection no tenant uses"


class OrphanStatus(models.TextChoices):
    OPEN = "open", "Open"
    DELETED = "deleted", "Deleted remotely"
    ADOPTED = "adopted", "Adopted"
    # It disappeared from integrator.io (or became someone's) without us acting on it.
    GONE = "gone", "Gone"


class Orphan(models.Model):
    """Something this deployment made in integrator.io that no tenant owns any more.

    Found by the periodic scan of each integrator.io account (provisioning.orphan_scan),
    recorded once per remote object (object ids are unique across accounts) with the account
    it lives in, and kept up to date (`last_seen_at`) while it stays; a person deletes it
    remotely or adopts it into a tenant of its account (provisioning.services.orphans).
    Nothing is deleted on its own unless ORPHANS_AUTO_DELETE is set.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # The integrator.io account it was found in: the scan of one account closes only that
    # account's orphans, and deleting or adopting one talks to its account.
    account = models.ForeignKey(
        "core.IntegratorAccount",
        on_delete=models.PROTECT,
        related_name="orphans",
        default=integrator_account_default_pk,
    )
    kind = models.CharField(max_length=32, choices=OrphanKind.choices)
    remote_id = models.CharField(max_length=64)
    name = models.CharField(max_length=200, blank=True)
    # The tag or externalId that makes it ours.
    mark = models.CharField(max_length=200, blank=True)
    # The tenant its mark names, when that tenant still exists.
    tenant = models.ForeignKey(
        "tenants.Tenant", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    tenant_uid = models.CharField(max_length=12, blank=True)
    reason = models.CharField(max_length=200)
    status = models.CharField(
        max_length=16, choices=OrphanStatus.choices, default=OrphanStatus.OPEN
    )
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-first_seen_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "remote_id"], name="orphan_once_per_object")
        ]
        indexes = [models.Index(fields=["status", "-first_seen_at"], name="orphan_status_seen")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.remote_id} ({self.status})"


class Drift(models.Model):
    """An episode of drift: a tenant's integration differing from what its version and settings
    say (a non-empty reconcile plan), found by the periodic check (provisioning.drift).

    Opened when a check first finds a difference (and `tenant.drifted` sent, once), kept up to
    date while it lasts (`changes` as the last check saw them), closed (`cleared_at`) by the
    first check that finds none, or by a repair or upgrade whose reconcile ends on an empty
    plan (provisioning.drift_clear). At most one open episode per tenant.
    """

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="drifts")
    version = models.ForeignKey(
        "tenants.TemplateVersion", on_delete=models.PROTECT, related_name="+"
    )
    found_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    cleared_at = models.DateTimeField(null=True, blank=True)
    # The plan's changes (kind, reason, masked diff), as `Change.summary()` gives them.
    changes = models.JSONField(default=list, blank=True)
    repair_job = models.ForeignKey(
        Job, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-found_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant"], condition=Q(cleared_at__isnull=True), name="drift_open_once"
            )
        ]

    def __str__(self) -> str:
        state = "cleared" if self.cleared_at else "open"
        return f"drift of {self.tenant} since {self.found_at:%Y-%m-%d %H:%M} ({state})"


class DriftCheck(models.Model):
    """When a tenant's integration was last compared with its desired state, for the budgeted
    periodic check (oldest first)."""

    tenant = models.OneToOneField(
        "tenants.Tenant", on_delete=models.CASCADE, related_name="drift_check"
    )
    checked_at = models.DateTimeField()
    # Why the last check could not compare (integrator.io down, no snapshot...), or "".
    error = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["checked_at"], name="drift_check_checked")]

    def __str__(self) -> str:
        return f"drift check of {self.tenant_id} at {self.checked_at:%Y-%m-%d %H:%M}"
