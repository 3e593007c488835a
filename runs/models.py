"""The mirror of each tenant's flow runs, its flows, sync bookkeeping and health rollup.

Rows here are copies of integrator.io's state (flow jobs and flows of the tenant's
integration), refreshed by the sync and the connection checks (`sync.py`, `mirror.py`,
`checks.py`, `health.py`, with their bookkeeping in `batches.py` and `scheduling.py`); nothing
outside this app writes them.
"""

from django.db import models
from django.db.models import Q

from core.leases import Leased


class RunStatus(models.TextChoices):
    """integrator.io's job statuses, in their canonical spelling (docs/integrator-io.md), and
    one of the service's own, `abandoned`: the mirror stopped following a run before it ended
    (its tenant was deprovisioned, or integrator.io no longer has the job), so its outcome is
    unknown; its counts stay as last read and it has no end time."""

    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    RETRYING = "retrying", "Retrying"
    CANCELING = "canceling", "Canceling"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    CANCELED = "canceled", "Canceled"
    ABANDONED = "abandoned", "Abandoned"


FINISHED_RUN_STATUSES = frozenset(
    {RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELED, RunStatus.ABANDONED}
)
UNFINISHED_RUN_STATUSES = frozenset(set(RunStatus) - FINISHED_RUN_STATUSES)
# A first sync lists the flows, reads a page of jobs and finds the next one empty.
FIRST_SYNC_CALLS = 3


class TenantFlow(models.Model):
    """A flow of the tenant's integration, as last listed from integrator.io."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="flows")
    flow_id = models.CharField(max_length=64)
    name = models.CharField(max_length=200, blank=True)
    # The template flow it was cloned from (`_sourceId`): what the template's flow switches
    # and schedules name it by. Empty until the flow is next listed.
    source_id = models.CharField(max_length=64, blank=True)
    disabled = models.BooleanField(default=False)
    # Set when the flow is no longer in the integration; its runs stay in the mirror.
    removed_at = models.DateTimeField(null=True, blank=True)
    refreshed_at = models.DateTimeField()

    class Meta:
        ordering = ["tenant", "name", "flow_id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "flow_id"], name="tenant_flow_unique")
        ]

    def __str__(self) -> str:
        return self.name or self.flow_id


class FlowRun(models.Model):
    """One `flow` job of a tenant's integration. `job_id` is integrator.io's job id."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="runs")
    job_id = models.CharField(max_length=64, unique=True)
    flow_id = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=RunStatus.choices)
    # integrator.io's createdAt: the order of runs and the sync's watermark.
    created_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.BigIntegerField(null=True, blank=True)
    # Named as the tenant page's latest runs name them, not by their fields ("Num error").
    num_success = models.PositiveIntegerField("success", default=0)
    num_error = models.PositiveIntegerField("errors", default=0)
    num_ignore = models.PositiveIntegerField("ignored", default=0)
    num_resolved = models.PositiveIntegerField("resolved", default=0)
    # From the child export jobs, as the flow job totals them: records read, pages made.
    num_export = models.PositiveIntegerField("exported", default=0)
    num_pages = models.PositiveIntegerField("pages", default=0)
    # integrator.io's lastModified: a job whose value did not change is not written again.
    remote_modified_at = models.CharField(max_length=40, blank=True)
    synced_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "-created_at", "-id"], name="run_tenant_created"),
            models.Index(fields=["tenant", "flow_id", "-created_at"], name="run_tenant_flow"),
            models.Index(
                fields=["tenant", "created_at"],
                condition=Q(status__in=["queued", "running", "retrying", "canceling"]),
                name="run_tenant_unfinished",
            ),
            models.Index(fields=["-created_at", "-id"], name="run_created"),
            models.Index(fields=["status", "-created_at"], name="run_status_created"),
        ]

    def __str__(self) -> str:
        return f"run {self.job_id} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_RUN_STATUSES


class FlowRunError(models.Model):
    """One error of a run, as integrator.io last reported it (`runs.run_errors`).

    Error Management 2.0 keeps errors per flow step with an `errorId`, a `retryDataKey` (when
    the record can be retried) and a resolved state; 1.0 (`joberrors`) has none of those, so
    `step_id` and `retry_data_key` stay empty and `error_id` is the job's `_retryId` (or the
    error's place in the list). Record data is never kept; the record's key
    (`trace_key`) is, so that the customer can find the record in their app.
    """

    run = models.ForeignKey(FlowRun, on_delete=models.CASCADE, related_name="errors")
    error_id = models.CharField(max_length=64)
    step_id = models.CharField(max_length=64, blank=True)
    retry_data_key = models.CharField(max_length=100, blank=True)
    code = models.CharField(max_length=100, blank=True)
    message = models.TextField(blank=True)
    source = models.CharField(max_length=100, blank=True)
    # integrator.io's traceKey: the key of the record that failed (an order number, an id),
    # null when it named none (an export that read no record) or the error was mirrored
    # before keys were kept: null, not "", as the API's `trace_key` says it, where "" would
    # read as a key that is empty. A text, not a bounded field: a key is the app's, and may
    # be composite.
    trace_key = models.TextField(null=True, blank=True)  # noqa: DJ001 (null: no key named)
    occurred_at = models.DateTimeField(null=True, blank=True)
    resolved = models.BooleanField(default=False)
    resolved_at = models.DateTimeField(null=True, blank=True)
    synced_at = models.DateTimeField()

    class Meta:
        ordering = ["run", "occurred_at", "id"]
        constraints = [models.UniqueConstraint(fields=["run", "error_id"], name="run_error_unique")]

    def __str__(self) -> str:
        return f"error {self.error_id} of {self.run_id}"


class SyncState(models.Model):
    """When a tenant's runs were (and will next be) synced, and its connections checked.

    The beat ticks pick tenants whose `next_sync_at` / `next_check_at` has come, within the
    call budget (see `runs.scheduling`), pricing each at `expected_calls`.
    """

    tenant = models.OneToOneField(
        "tenants.Tenant", on_delete=models.CASCADE, primary_key=True, related_name="run_sync"
    )
    next_sync_at = models.DateTimeField(db_index=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    # What the last sync cost, and what the next is expected to cost: the recurring part only
    # (pages of jobs and re-reads), not one-off flow listings or the first backfill.
    last_calls = models.PositiveIntegerField(default=0)
    expected_calls = models.PositiveIntegerField(default=FIRST_SYNC_CALLS)
    next_check_at = models.DateTimeField(db_index=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    flows_refreshed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"sync state of {self.tenant_id}"


class RunSyncCursor(Leased):
    """Where the account-wide run sync of one integrator.io account stands
    (`runs.account_sync`): one row per account, keyed by the account's key ("default" for
    the account the settings name).

    `watermark` is the newest `createdAt` read so far, on integrator.io's clock (never ours):
    the next cycle reads the account's flow jobs created since `watermark` minus an overlap.
    A cycle is held by a lease, so two workers never run one account's cycle at once.
    """

    key = models.CharField(max_length=64, primary_key=True)
    watermark = models.DateTimeField(null=True, blank=True)
    next_sync_at = models.DateTimeField()
    last_synced_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    # What the last cycle cost and read: calls in all, pages of account-wide job lists, jobs
    # read, reads of runs still open (by id or by status).
    last_calls = models.PositiveIntegerField(default=0)
    last_pages = models.PositiveIntegerField(default=0)
    last_jobs = models.PositiveIntegerField(default=0)
    last_open_reads = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"run sync cursor {self.key}"


class HealthStatus(models.TextChoices):
    UNKNOWN = "unknown", "Unknown"
    HEALTHY = "healthy", "Healthy"
    UNHEALTHY = "unhealthy", "Unhealthy"


class TenantHealth(models.Model):
    """The latest health rollup of a tenant (see `runs.health`), for lists and filters."""

    tenant = models.OneToOneField(
        "tenants.Tenant", on_delete=models.CASCADE, primary_key=True, related_name="health"
    )
    status = models.CharField(
        max_length=16, choices=HealthStatus.choices, default=HealthStatus.UNKNOWN, db_index=True
    )
    reasons = models.JSONField(default=list, blank=True)
    # True while the tenant is degraded because of these rules (and not, say, a failed
    # provisioning job): only then do the rules move it back to active.
    degraded_by_health = models.BooleanField(default=False)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_run_status = models.CharField(max_length=16, choices=RunStatus.choices, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    runs_24h = models.PositiveIntegerField(default=0)
    failed_runs_24h = models.PositiveIntegerField(default=0)
    errors_24h = models.PositiveIntegerField(default=0)
    failing_flows = models.JSONField(default=list, blank=True)
    offline_connections = models.JSONField(default=list, blank=True)
    computed_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "tenant health"

    def __str__(self) -> str:
        return f"health of {self.tenant_id}: {self.status}"
