"""What rollouts record when provisioning reports something (see provisioning.signals)."""

from __future__ import annotations

from core.outbox import send_on_commit
from rollouts.models import RolloutTenant, RolloutTenantState
from rollouts.tasks import rollout_advance_task


def job_retried_record(sender, *, job, **kwargs) -> None:
    """A rollout's upgrade (or rollback) job that failed was retried: the rollout's record of
    its tenant follows the job again instead of keeping the old failure. The driver records
    the retry's outcome as it records any of its jobs' (a tenant moved, with its
    `tenant.upgraded` event, or failed again); it is nudged now, whatever the rollout's status,
    rather than at beat's next tick."""
    upgrades = RolloutTenant.objects.filter(job=job, state=RolloutTenantState.FAILED)
    rollbacks = RolloutTenant.objects.filter(rollback_job=job).exclude(rollback_error="")
    rollout_ids = set(upgrades.values_list("rollout_id", flat=True))
    rollout_ids |= set(rollbacks.values_list("rollout_id", flat=True))
    upgrades.update(state=RolloutTenantState.QUEUED, error="")
    rollbacks.update(rollback_error="")
    for rollout_id in rollout_ids:
        send_on_commit(rollout_advance_task, str(rollout_id))
