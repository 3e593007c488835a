"""The driver: one step of a rollout, run by `rollouts.advance` as often as needed.

Each step, under the rollout's row lock:

1. records the outcome of every upgrade job of the rollout that has finished (a tenant moved,
   with its `tenant.upgraded` event, failed, or skipped because the tenant was deprovisioned
   meanwhile), whatever the rollout's status: an abort or a pause stops queuing, and the jobs
   already queued still finish and are recorded. A failed job someone retries is followed
   again (rollouts.receivers), and its new outcome recorded the same way;
2. running: while the current wave has unfinished jobs, waits. Once it has finished, judges
   it: failed / (moved + failed) above `max_failure_rate` halts the rollout
   (`rollout.halted`); otherwise the next wave is due after `pause_seconds`. When it is due,
   its tenants' upgrade jobs are queued (each tenant checked again first: pinned, already
   there or deprovisioned meanwhile, it is skipped). After the last wave: `completed`
   (`rollout.completed`);
3. rolling back: once no upgrade job of the rollout is unfinished, the tenants that moved go
   back to the version each came from, a wave at a time, the last wave first; then
   `rolled_back`. A tenant whose upgrade failed kept its version, but its integration may
   hold what the job changed before it failed (a flow of the new version added, say): it is
   reconciled to its own version in its wave too, and stays `failed` (it never moved).
   The end is sent as `rollout.rolled_back`.

Concurrency: the step holds `SELECT ... FOR UPDATE SKIP LOCKED` on the rollout row for its
whole transaction, and reads its position (`current_wave`, `judged_wave`) only under that lock;
a second driver at the same moment finds the row locked and returns at once, and one that
comes later sees the position the first one committed. A wave is therefore queued once, and
the jobs and the rows that record them (`RolloutTenant.job`) commit together, with the job
messages sent after the commit (provisioning's `job_request`).

The step says when it wants to run again (`NextCheck`); the task sends itself with that
countdown. `Rollout.next_check_at` is the token of that one chain of messages: a message that
carries another token (a nudge from the beat tick, or an old message) does the step but does
not start a second chain, unless the chain is overdue (its message was lost).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from audit.services import audit_record
from core.errors import ApplicationError
from provisioning.desired_states import tenant_settings_for_version
from provisioning.errors import JobConflict
from provisioning.models import UNFINISHED_JOB_STATUSES, Job, JobKind, JobOrigin, JobStatus
from provisioning.runner import describe_error
from provisioning.services import job_request
from rollouts import events
from rollouts.models import Rollout, RolloutStatus, RolloutTenant, RolloutTenantState
from rollouts.percent import percents
from rollouts.plan import UPGRADABLE_STATUSES, skip_reason, version_snapshot_check
from rollouts.selectors import rollout_progress, wave_failure_rate, wave_state_counts
from tenants.models import TemplateVersion, Tenant
from tenants.services.tenants import GONE_STATUSES

logger = logging.getLogger(__name__)

S = RolloutTenantState
# Entries a rollback gives a job: the tenants that moved, and those whose upgrade failed
# part-way (their integration is put back to their own version).
TAKEN_BACK_STATES = (S.SUCCEEDED, S.FAILED)
# A rollout's jobs are asked for by the rollout, not by a person.
JOB_ORIGIN = JobOrigin.ROLLOUT


@dataclass(frozen=True)
class NextCheck:
    token: str
    countdown: float


def rollout_advance(*, rollout_id, token: str | None = None) -> NextCheck | None:
    """Run one step of the rollout (see the module docstring). Returns when the chain should
    run again, or None when this message does not carry the chain on."""
    with transaction.atomic():
        rollout = (
            Rollout.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("template", "to_version")
            .filter(pk=rollout_id)
            .first()
        )
        if rollout is None:
            # Unknown, or another driver holds the row: that one carries the rollout on.
            return None
        now = timezone.now()
        wait = _step(rollout, now)
        current = rollout.next_check_at
        owns_chain = current is None or current <= now or token == current.isoformat()
        if not owns_chain:
            return None
        if wait is None:
            Rollout.objects.filter(pk=rollout.pk).update(next_check_at=None)
            return None
        due = now + timedelta(seconds=wait)
        Rollout.objects.filter(pk=rollout.pk).update(next_check_at=due)
        return NextCheck(token=due.isoformat(), countdown=wait)


def rollouts_to_nudge(*, now: datetime | None = None) -> list[str]:
    """Rollouts with work left whose chain is overdue or absent (the beat tick's safety net):
    running or rolling back, or any other with upgrade jobs still to record."""
    now = now or timezone.now()
    driving = Rollout.objects.filter(status__in=(RolloutStatus.RUNNING, RolloutStatus.ROLLING_BACK))
    settling = Rollout.objects.filter(
        Q(entries__state=S.QUEUED)
        | Q(
            entries__state__in=TAKEN_BACK_STATES,
            entries__rollback_job__status__in=UNFINISHED_JOB_STATUSES,
        )
    )
    rollouts = (driving | settling).distinct()
    overdue = rollouts.filter(next_check_at__isnull=True) | rollouts.filter(next_check_at__lt=now)
    return [str(pk) for pk in overdue.values_list("pk", flat=True)]


def _poll() -> float:
    return float(settings.ROLLOUTS_POLL_SECONDS)


def _step(rollout: Rollout, now: datetime) -> float | None:
    """Seconds until the rollout wants looking at again, or None."""
    _record_finished_upgrades(rollout)
    if rollout.status == RolloutStatus.HALTED:
        _halt_reason_refresh(rollout)
    if rollout.status == RolloutStatus.RUNNING:
        return _forward(rollout, now)
    if rollout.status == RolloutStatus.ROLLING_BACK:
        return _backward(rollout, now)
    # A rollback job retried after the rollout was rolled back is recorded too.
    _record_finished_rollbacks(rollout)
    in_flight = RolloutTenant.objects.filter(rollout=rollout).filter(
        Q(state=S.QUEUED)
        | Q(state__in=TAKEN_BACK_STATES, rollback_job__status__in=UNFINISHED_JOB_STATUSES)
    )
    return _poll() if in_flight.exists() else None


# --- forward --------------------------------------------------------------------------------


def _forward(rollout: Rollout, now: datetime) -> float | None:
    while True:
        if rollout.current_wave > rollout.judged_wave:
            # Tenants left pending had another job unfinished: asked again each time.
            _queue_wave(rollout, rollout.current_wave)
            waiting = RolloutTenant.objects.filter(
                rollout=rollout, wave=rollout.current_wave, state__in=(S.PENDING, S.QUEUED)
            )
            if waiting.exists():
                return _poll()
            if _judge(rollout, now):
                return None
        if rollout.current_wave >= rollout.wave_count:
            _complete(rollout, now)
            return None
        if rollout.next_wave_at is not None and rollout.next_wave_at > now:
            return (rollout.next_wave_at - now).total_seconds()
        rollout.current_wave += 1
        rollout.next_wave_at = None
        rollout.save(update_fields=["current_wave", "next_wave_at", "updated_at"])
        logger.info(
            "rollout %s: wave %d of %d", rollout.pk, rollout.current_wave, rollout.wave_count
        )


def _judge(rollout: Rollout, now: datetime) -> bool:
    """The current wave has finished: halt (True) or schedule the next one."""
    counts = wave_state_counts(rollout=rollout, wave=rollout.current_wave)
    rate = wave_failure_rate(counts)
    rollout.judged_wave = rollout.current_wave
    rollout.next_wave_at = now + timedelta(seconds=rollout.pause_seconds)
    if rate is not None and rate > rollout.max_failure_rate:
        failed = counts.get(S.FAILED, 0)
        rollout.status = RolloutStatus.HALTED
        # Nothing is queued until a person resumes (the next wave is then due at once), and
        # a halt in the last wave has no next wave: no time to show for one.
        rollout.next_wave_at = None
        rate_text, limit_text = percents(rate, rollout.max_failure_rate)
        rollout.halt_reason = (
            f"Wave {rollout.current_wave}: {failed} of "
            f"{failed + counts.get(S.SUCCEEDED, 0)} upgrades failed ({rate_text}), more than "
            f"the {limit_text} allowed."
        )
        rollout.save()
        audit_record(
            action="rollout.halt",
            target=rollout,
            before={"status": RolloutStatus.RUNNING},
            after={"status": rollout.status, "halt_reason": rollout.halt_reason},
        )
        events.rollout_halted_record(rollout, failure_rate=rate)
        logger.warning("rollout %s halted: %s", rollout.pk, rollout.halt_reason)
        return True
    rollout.save(update_fields=["judged_wave", "next_wave_at", "updated_at"])
    return False


# What a halted rollout's reason adds once retries of its wave's failed jobs have ended.
_RETRIED_MARK = " Retried since: "


def _halt_reason_refresh(rollout: Rollout) -> None:
    """The halted wave's failed jobs may have been retried (rollouts.receivers) and succeeded:
    the halt stays (a person resumes), but its reason says how the wave stands now, rather
    than claim failures that are no longer there."""
    counts = wave_state_counts(rollout=rollout, wave=rollout.judged_wave)
    rate = wave_failure_rate(counts)
    halted = rollout.halt_reason.split(_RETRIED_MARK)[0]
    failed = counts.get(S.FAILED, 0)
    finished = failed + counts.get(S.SUCCEEDED, 0) + counts.get(S.ROLLED_BACK, 0)
    rate_text, limit_text = percents(rate or 0, rollout.max_failure_rate)
    now_stands = f"{failed} of {finished} failed ({rate_text})"
    if rate is None or halted.startswith(
        f"Wave {rollout.judged_wave}: {failed} of {finished} upgrades failed"
    ):
        reason = halted  # nothing retried has ended differently
    elif rate <= rollout.max_failure_rate:
        reason = f"{halted}{_RETRIED_MARK}{now_stands}, within the limit."
    else:
        reason = f"{halted}{_RETRIED_MARK}{now_stands}, still more than the {limit_text} allowed."
    if reason != rollout.halt_reason:
        rollout.halt_reason = reason
        rollout.save(update_fields=["halt_reason", "updated_at"])


def _complete(rollout: Rollout, now: datetime) -> None:
    rollout.status = RolloutStatus.COMPLETED
    rollout.finished_at = now
    rollout.next_wave_at = None  # no wave follows the last
    rollout.save(update_fields=["status", "finished_at", "next_wave_at", "updated_at"])
    events.rollout_completed_record(rollout, counts=rollout_progress(rollout=rollout)["states"])
    logger.info("rollout %s completed", rollout.pk)


def _queue_wave(rollout: Rollout, wave: int) -> None:
    entries = RolloutTenant.objects.filter(rollout=rollout, wave=wave, state=S.PENDING)
    for entry in entries.select_related("tenant"):
        _queue_upgrade(rollout, entry)


def _queue_upgrade(rollout: Rollout, entry: RolloutTenant) -> None:
    """Ask for the tenant's upgrade job and record it on the entry, in this transaction."""
    tenant = Tenant.objects.get(pk=entry.tenant_id)
    if _gone(tenant):
        entry.state, entry.error = S.SKIPPED_GONE, _GONE_MESSAGE.format(status=tenant.status)
        entry.save(update_fields=["state", "error", "updated_at"])
        return
    reason = skip_reason(tenant, rollout.to_version)
    problem = _not_upgradable(tenant)
    if reason is None and problem is not None and _busy(tenant, rollout.to_version):
        # Provisioning because another job of it runs (a failed tenant's repair): that job
        # decides its status; asked again at the next step, as any busy tenant is.
        entry.error = _BUSY_MESSAGE
        entry.save(update_fields=["error", "updated_at"])
        return
    if reason is not None or problem is not None:
        entry.state = reason or S.FAILED
        entry.error = problem or ""
        entry.save(update_fields=["state", "error", "updated_at"])
        return
    job, refused = _upgrade_request(tenant, rollout.to_version)
    if job is None:
        # Refused: failed. Busy (another job of the tenant is unfinished): it stays pending
        # and is asked for again at the next step, once that job has ended.
        entry.state = S.FAILED if refused else entry.state
        entry.error = refused or _BUSY_MESSAGE
        entry.save(update_fields=["state", "error", "updated_at"])
        return
    entry.state, entry.job, entry.error = S.QUEUED, job, ""
    # The version it comes from is the one it has when its job is queued.
    entry.from_version_id = tenant.template_version_id
    entry.save(update_fields=["state", "job", "error", "from_version", "updated_at"])


_BUSY_MESSAGE = "Waiting for another job of the tenant to finish."


def _busy(tenant: Tenant, version: TemplateVersion) -> bool:
    """Another job of the tenant is unfinished (not its upgrade to `version`)."""
    return (
        Job.objects.filter(tenant=tenant, status__in=UNFINISHED_JOB_STATUSES)
        .exclude(kind=JobKind.UPGRADE, target_version=version)
        .exists()
    )


def _upgrade_request(tenant: Tenant, version: TemplateVersion) -> tuple[Job | None, str]:
    """The tenant's upgrade job to `version` (queued, or the same one asked again), or None
    with why it was refused ("" when it is only busy: another of its jobs is unfinished).
    A version without a snapshot (a rollback to a version published --offline), and settings
    that do not fit `version`, are refused here: the job could only fail on them, and a
    failed job leaves a live tenant degraded."""
    try:
        version_snapshot_check(version)
        tenant_settings_for_version(tenant=tenant, version=version)
        job = job_request(
            tenant=tenant, kind=JobKind.UPGRADE, requested_by=JOB_ORIGIN, target_version=version
        )
    except JobConflict:
        return None, ""
    except ApplicationError as error:
        code, message = describe_error(error)  # with the fields it names
        return None, f"{code}: {message}"
    return job, ""


_GONE_MESSAGE = "The tenant is {status}: it left before its upgrade; skipped."
_LEFT_DURING_MESSAGE = (
    "The tenant is {status}: it left while its upgrade was queued or running, which "
    "stopped there; skipped."
)


def _gone(tenant: Tenant) -> bool:
    """Deprovisioned, being deprovisioned, or registered again since (a new incarnation):
    nothing of this rollout's to move, and no failure of the upgrade either."""
    return tenant.superseded_at is not None or tenant.status in GONE_STATUSES


def _not_upgradable(tenant: Tenant) -> str | None:
    if tenant.superseded_at is not None or tenant.status not in UPGRADABLE_STATUSES:
        return f"The tenant is {tenant.status} now; it has no integration to upgrade."
    if not tenant.integration_id:
        return "The tenant has no integration to upgrade."
    return None


def _record_finished_upgrades(rollout: Rollout) -> None:
    queued = RolloutTenant.objects.filter(rollout=rollout, state=S.QUEUED).select_related(
        "tenant", "job", "from_version"
    )
    for entry in queued:
        job = entry.job
        if job is not None and job.status in UNFINISHED_JOB_STATUSES:
            continue
        if job is not None and job.status == JobStatus.SUCCEEDED:
            entry.state, entry.error = S.SUCCEEDED, ""
            events.tenant_upgraded_record(
                entry,
                job_id=job.pk,
                from_version=entry.from_version.version,
                to_version=rollout.to_version.version,
            )
        elif _gone(entry.tenant):
            # Its job was canceled (or failed) because the tenant was deprovisioned meanwhile.
            entry.state = S.SKIPPED_GONE
            entry.error = _LEFT_DURING_MESSAGE.format(status=entry.tenant.status)
        else:
            entry.state = S.FAILED
            entry.error = _job_error(job)
        entry.save(update_fields=["state", "error", "updated_at"])


def _job_error(job) -> str:
    if job is None:
        return "Its upgrade job is gone."
    if job.status == JobStatus.CANCELED:
        return f"canceled: {job.error_message or 'the upgrade job was canceled.'}"
    return f"{job.error_code or 'failed'}: {job.error_message or 'the upgrade job failed.'}"


# --- rollback -------------------------------------------------------------------------------


def _backward(rollout: Rollout, now: datetime) -> float | None:
    if RolloutTenant.objects.filter(rollout=rollout, state=S.QUEUED).exists():
        return _poll()  # an upgrade still running is recorded first, then taken back
    _record_finished_rollbacks(rollout)
    while True:
        in_flight = RolloutTenant.objects.filter(
            rollout=rollout,
            state__in=TAKEN_BACK_STATES,
            rollback_job__status__in=UNFINISHED_JOB_STATUSES,
        )
        if in_flight.exists():
            return _poll()
        due = _rollback_due(rollout)
        wave = due.aggregate(wave=Max("wave"))["wave"]
        if wave is None:
            rollout.status = RolloutStatus.ROLLED_BACK
            rollout.finished_at = now
            rollout.next_wave_at = None
            rollout.save(update_fields=["status", "finished_at", "next_wave_at", "updated_at"])
            events.rollout_rolled_back_record(
                rollout, counts=rollout_progress(rollout=rollout)["states"]
            )
            logger.info("rollout %s rolled back", rollout.pk)
            return None
        if wave != rollout.rollback_wave:
            rollout.rollback_wave = wave
            rollout.save(update_fields=["rollback_wave", "updated_at"])
        for entry in due.filter(wave=wave).select_related("tenant", "from_version"):
            _queue_rollback(rollout, entry)
        if due.filter(wave=wave).exists():
            return _poll()  # a tenant with another job unfinished: asked again next time


def _rollback_due(rollout: Rollout):
    """Tenants that moved, or whose upgrade job ran and failed, and have not been asked to go
    back yet."""
    return RolloutTenant.objects.filter(
        Q(state=S.SUCCEEDED) | Q(state=S.FAILED, job__isnull=False),
        rollout=rollout,
        rollback_job__isnull=True,
        rollback_error="",
    )


def _queue_rollback(rollout: Rollout, entry: RolloutTenant) -> None:
    tenant = Tenant.objects.get(pk=entry.tenant_id)
    # A failed tenant is still on the version it came from: its job puts back what the failed
    # upgrade changed in its integration.
    expected = entry.from_version_id if entry.state == S.FAILED else rollout.to_version_id
    if tenant.template_version_id != expected:
        # Moved again since (by hand, or by a later rollout): not this rollout's to undo.
        entry.rollback_error = "It is on another version than this rollout's now; left there."
        entry.save(update_fields=["rollback_error", "updated_at"])
        return
    job, refused = _upgrade_request(tenant, entry.from_version)
    if job is None:
        if refused:  # otherwise busy: asked again at the next step
            entry.rollback_error = refused
            entry.save(update_fields=["rollback_error", "updated_at"])
        return
    entry.rollback_job = job
    entry.save(update_fields=["rollback_job", "updated_at"])


def _record_finished_rollbacks(rollout: Rollout) -> None:
    finished = (
        RolloutTenant.objects.filter(
            rollout=rollout,
            state__in=TAKEN_BACK_STATES,
            rollback_job__isnull=False,
            rollback_error="",
        )
        .exclude(rollback_job__status__in=UNFINISHED_JOB_STATUSES)
        .select_related("tenant", "rollback_job", "from_version")
    )
    for entry in finished:
        job = entry.rollback_job
        if job.status == JobStatus.SUCCEEDED and entry.state == S.FAILED:
            continue  # put back in place; it never moved, so it stays failed, without an event
        if job.status == JobStatus.SUCCEEDED:
            entry.state = S.ROLLED_BACK
            events.tenant_upgraded_record(
                entry,
                job_id=job.pk,
                from_version=rollout.to_version.version,
                to_version=entry.from_version.version,
            )
        else:
            entry.rollback_error = _job_error(job)
        entry.save(update_fields=["state", "rollback_error", "updated_at"])
