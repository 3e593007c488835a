"""Rollouts: one template version taken to a template's tenants, wave after wave.

A `Rollout` is the plan and its progress; a `RolloutTenant` is one tenant's place in it (its
wave, the version it came from, its upgrade job). The rows are written when the rollout
starts, so what will happen is on record before anything does; the driver
(`rollouts.driver`) moves them on. Rules live in `rollouts.services` and `rollouts.driver`.
"""

import uuid

from django.db import models
from django.db.models import Q


class RolloutStrategy(models.TextChoices):
    # Named tenants first (wave 1), then the rest in waves of `wave_size` or `wave_percent`.
    CANARY = "canary", "Canary tenants first"
    # Waves of `wave_percent` % of the eligible tenants.
    PERCENT = "percent", "Waves of a percentage"


class RolloutStatus(models.TextChoices):
    # No "planned": a dry run is answered, never stored.
    RUNNING = "running", "Running"
    PAUSED = "paused", "Paused"
    HALTED = "halted", "Halted"
    COMPLETED = "completed", "Completed"
    ABORTED = "aborted", "Aborted"
    ROLLING_BACK = "rolling_back", "Rolling back"
    ROLLED_BACK = "rolled_back", "Rolled back"


# A rollout in one of these still queues jobs (or will, once resumed): one per template, or
# two of them would move the same tenants two ways.
IN_FLIGHT_STATUSES = (RolloutStatus.RUNNING, RolloutStatus.PAUSED, RolloutStatus.ROLLING_BACK)


class RolloutTenantState(models.TextChoices):
    PENDING = "pending", "Pending"
    SKIPPED_PINNED = "skipped_pinned", "Skipped: pinned to its version"
    SKIPPED_ALREADY = "skipped_already", "Skipped: already on the version"
    # Deprovisioned (or being) before its upgrade could move it: it did not try, so it counts
    # neither way in its wave's failure rate.
    SKIPPED_GONE = "skipped_gone", "Skipped: deprovisioned"
    # The rollout was aborted or rolled back before its wave (or while it waited for another
    # job of the tenant): nothing more is queued, so it stays on its version.
    NOT_STARTED = "not_started", "Not started: the rollout stopped first"
    QUEUED = "queued", "Upgrade queued"
    SUCCEEDED = "succeeded", "Moved"
    FAILED = "failed", "Failed"
    ROLLED_BACK = "rolled_back", "Moved back"


SKIPPED_STATES = (
    RolloutTenantState.SKIPPED_PINNED,
    RolloutTenantState.SKIPPED_ALREADY,
    RolloutTenantState.SKIPPED_GONE,
)


class Rollout(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    template = models.ForeignKey(
        "tenants.IntegrationTemplate", on_delete=models.PROTECT, related_name="rollouts"
    )
    to_version = models.ForeignKey(
        "tenants.TemplateVersion", on_delete=models.PROTECT, related_name="rollouts"
    )
    strategy = models.CharField(max_length=16, choices=RolloutStrategy.choices)
    canary_tenants = models.JSONField(default=list, blank=True)
    wave_percent = models.PositiveSmallIntegerField(null=True, blank=True)
    wave_size = models.PositiveIntegerField(null=True, blank=True)
    pause_seconds = models.PositiveIntegerField(default=0)
    max_failure_rate = models.FloatField()
    status = models.CharField(
        max_length=16, choices=RolloutStatus.choices, default=RolloutStatus.RUNNING
    )
    halt_reason = models.TextField(blank=True)
    created_by = models.CharField(max_length=150)
    wave_count = models.PositiveIntegerField(default=0)
    # The driver's position: the last wave queued, the last wave whose outcome was judged
    # (equal once a wave has finished), and when the next wave may be queued (the pause).
    current_wave = models.PositiveIntegerField(default=0)
    judged_wave = models.PositiveIntegerField(default=0)
    next_wave_at = models.DateTimeField(null=True, blank=True)
    # The rollback's position: the wave whose tenants are moving back (they go last wave
    # first), 0 before the rollback starts.
    rollback_wave = models.PositiveIntegerField(default=0)
    # When the driver's next message is due: the token of the one chain of messages that
    # drives the rollout (see rollouts.driver), so that extra sends never multiply.
    next_check_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["template"],
                condition=Q(status__in=IN_FLIGHT_STATUSES),
                name="rollout_one_in_flight_per_template",
                violation_error_message="This template already has a rollout in flight.",
            ),
            models.CheckConstraint(
                condition=Q(max_failure_rate__gte=0) & Q(max_failure_rate__lte=1),
                name="rollout_failure_rate_range",
            ),
        ]
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="rollout_created"),
            models.Index(fields=["status"], name="rollout_status"),
        ]

    def __str__(self) -> str:
        return f"{self.template.key} -> v{self.to_version.version} ({self.status})"


class RolloutTenant(models.Model):
    rollout = models.ForeignKey(Rollout, on_delete=models.CASCADE, related_name="entries")
    tenant = models.ForeignKey(
        "tenants.Tenant", on_delete=models.PROTECT, related_name="rollout_entries"
    )
    # 1 for the first wave (the canaries); 0 for a tenant skipped from the start.
    wave = models.PositiveIntegerField()
    from_version = models.ForeignKey(
        "tenants.TemplateVersion", on_delete=models.PROTECT, related_name="+"
    )
    state = models.CharField(
        max_length=16, choices=RolloutTenantState.choices, default=RolloutTenantState.PENDING
    )
    job = models.ForeignKey(
        "provisioning.Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    error = models.TextField(blank=True)
    # The job taking it back to `from_version`, and why it was not (or failed), on rollback.
    rollback_job = models.ForeignKey(
        "provisioning.Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    rollback_error = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        # Rows are written in wave order, so the id orders them by wave too.
        ordering = ["rollout", "id"]
        constraints = [
            models.UniqueConstraint(fields=["rollout", "tenant"], name="rollout_tenant_once")
        ]
        indexes = [
            models.Index(fields=["rollout", "wave", "state"], name="rollout_tenant_wave"),
        ]

    def __str__(self) -> str:
        return f"{self.tenant.external_id} in wave {self.wave} ({self.state})"
