"""Starting, steering and undoing rollouts, and moving or pinning one tenant.

Every state change of a rollout is made under its row lock (the driver takes the same lock),
and every message to the driver is sent after commit (`core.outbox.send_on_commit`).
"""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.services import audit_record
from core.outbox import send_on_commit
from provisioning.desired_states import tenant_settings_for_version
from provisioning.models import UNFINISHED_JOB_STATUSES, Job, JobKind, JobOrigin
from provisioning.services import job_request
from rollouts import events
from rollouts.errors import (
    NothingToRollOut,
    RolloutInProgress,
    RolloutTransitionError,
    TenantVersionConflict,
    VersionRetired,
)
from rollouts.models import (
    IN_FLIGHT_STATUSES,
    Rollout,
    RolloutStatus,
    RolloutTenant,
    RolloutTenantState,
)
from rollouts.plan import RolloutSpec, rollout_plan, version_snapshot_check
from rollouts.selectors import rollout_progress
from rollouts.tasks import rollout_advance_task
from tenants import services as tenant_services
from tenants.models import IntegrationTemplate, TemplateVersion, Tenant
from tenants.services import tenant_changeable_check

logger = logging.getLogger(__name__)

R = RolloutStatus


def rollout_dry_run(
    *, template: IntegrationTemplate, to_version: TemplateVersion, spec: RolloutSpec
) -> dict:
    """What `rollout_start` would do now, as a summary; writes nothing."""
    return rollout_plan(template=template, to_version=to_version, spec=spec).summary()


def rollout_start(
    *,
    template: IntegrationTemplate,
    to_version: TemplateVersion,
    spec: RolloutSpec,
    created_by: str,
) -> Rollout:
    """Record the rollout and every tenant's place in it, then let the driver queue wave 1."""
    plan = rollout_plan(template=template, to_version=to_version, spec=spec)
    if plan.tenant_count == 0:
        raise NothingToRollOut(
            f"No tenant of {template.key} would move to v{to_version.version}: "
            f"{len(plan.skipped)} skipped (pinned or already there), none other eligible."
        )
    with transaction.atomic():
        # The lock `template_version_retire` takes: a version retired since it was planned is
        # refused here, and a retire coming now sees this rollout.
        IntegrationTemplate.objects.select_for_update().get(pk=template.pk)
        if TemplateVersion.objects.filter(pk=to_version.pk, retired_at__isnull=False).exists():
            raise VersionRetired(
                f"Version {to_version.version} of {template.key} is retired; roll out another."
            )
        _refuse_in_flight(template)
        try:
            with transaction.atomic():
                rollout = Rollout.objects.create(
                    template=template,
                    to_version=to_version,
                    strategy=spec.strategy,
                    canary_tenants=list(spec.canary_tenants),
                    wave_percent=spec.wave_percent,
                    wave_size=spec.wave_size,
                    pause_seconds=spec.pause_seconds,
                    max_failure_rate=spec.max_failure_rate,
                    created_by=created_by[:150],
                    wave_count=len(plan.waves),
                )
        except IntegrityError:
            raise _in_flight_error(template) from None
        RolloutTenant.objects.bulk_create(
            [
                RolloutTenant(
                    rollout=rollout,
                    tenant=tenant,
                    wave=number,
                    from_version_id=tenant.template_version_id,
                )
                for number, wave in enumerate(plan.waves, start=1)
                for tenant in wave
            ]
            + [
                RolloutTenant(
                    rollout=rollout,
                    tenant=tenant,
                    wave=0,
                    from_version_id=tenant.template_version_id,
                    state=state,
                )
                for tenant, state in plan.skipped
            ]
        )
        audit_record(
            action="rollout.start",
            target=rollout,
            after={
                "template": template.key,
                "to_version": to_version.version,
                "strategy": spec.strategy,
                "tenants": plan.tenant_count,
                "waves": len(plan.waves),
            },
        )
        events.rollout_started_record(rollout, tenants=plan.tenant_count)
        send_on_commit(rollout_advance_task, str(rollout.pk))
    logger.info(
        "rollout %s of %s v%s started: %d tenants in %d waves",
        rollout.pk,
        template.key,
        to_version.version,
        plan.tenant_count,
        len(plan.waves),
    )
    return rollout


def rollout_pause(*, rollout: Rollout) -> Rollout:
    """No new wave is queued; the jobs already queued finish and are recorded."""
    return _transition(rollout, allowed=(R.RUNNING,), to=R.PAUSED)


def rollout_resume(*, rollout: Rollout) -> Rollout:
    """Go on from a pause, or past a halt (its wave stays judged: the next wave is due now)."""
    return _transition(rollout, allowed=(R.PAUSED, R.HALTED), to=R.RUNNING)


def rollout_abort(*, rollout: Rollout) -> Rollout:
    """Stop for good: nothing more is queued; jobs already queued finish and are recorded.
    Its tenants that moved stay moved (roll it back to undo them). Sent as `rollout.aborted`."""
    return _transition(rollout, allowed=(R.RUNNING, R.PAUSED, R.HALTED), to=R.ABORTED)


def rollout_rollback(*, rollout: Rollout) -> Rollout:
    """Every tenant the rollout moved goes back to the version it came from, through the same
    upgrade jobs, a wave at a time (last wave first). Jobs still running finish first."""
    return _transition(
        rollout,
        allowed=(R.RUNNING, R.PAUSED, R.HALTED, R.COMPLETED, R.ABORTED),
        to=R.ROLLING_BACK,
    )


# The audit log's verb for each status a person moves a rollout to.
_VERBS = {R.PAUSED: "pause", R.RUNNING: "resume", R.ABORTED: "abort", R.ROLLING_BACK: "rollback"}


# What each control does to a rollout, as its refusal says it cannot be done.
_DONE = {
    R.PAUSED: "paused",
    R.RUNNING: "resumed",
    R.ABORTED: "aborted",
    R.ROLLING_BACK: "rolled back",
}


def _status_words(status: str) -> str:
    return status.replace("_", " ")


def _either(statuses: tuple[str, ...]) -> str:
    words = [_status_words(status) for status in statuses]
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


def _transition(rollout: Rollout, *, allowed: tuple[str, ...], to: str) -> Rollout:
    with transaction.atomic():
        # Waits for a driver's step in progress: its outcome (a halt, say) is decided first.
        locked = Rollout.objects.select_for_update().get(pk=rollout.pk)
        if locked.status not in allowed:
            raise RolloutTransitionError(
                f"The rollout is {_status_words(locked.status)}; it cannot be "
                f"{_DONE[to]} (only a {_either(allowed)} rollout can be)."
            )
        now = timezone.now()
        status_before = locked.status
        changed = ["status", "updated_at"]
        if to == R.RUNNING and locked.status == R.HALTED:
            locked.next_wave_at = now
            changed.append("next_wave_at")
        if to in (R.RUNNING, R.ROLLING_BACK):
            locked.halt_reason, locked.finished_at = "", None
            changed += ["halt_reason", "finished_at"]
        if to in (R.ABORTED, R.ROLLING_BACK):
            # No further wave of the rollout is coming (a rollback has waves of its own).
            locked.next_wave_at = None
            changed.append("next_wave_at")
            _not_started_record(locked, verb="aborted" if to == R.ABORTED else "rolled back")
        if to == R.ABORTED:
            locked.finished_at = now
            changed.append("finished_at")
        # The driver's pending message was timed for the rollout as it was (the end of a
        # wave's pause, say): a rollback must not wait for it. Forgetting its token lets the
        # message sent below (or beat's tick) start the chain again at once; the old message,
        # when it comes, does a step but carries no chain on (rollouts.driver).
        locked.next_check_at = None
        changed.append("next_check_at")
        locked.status = to
        try:
            with transaction.atomic():
                locked.save(update_fields=changed)
        except IntegrityError:
            raise _in_flight_error(locked.template) from None
        audit_record(
            action=f"rollout.{_VERBS[to]}",
            target=locked,
            before={"status": status_before},
            after={"status": to},
        )
        if to == R.ABORTED:
            events.rollout_aborted_record(locked, counts=rollout_progress(rollout=locked)["states"])
        if to in IN_FLIGHT_STATUSES:
            send_on_commit(rollout_advance_task, str(locked.pk))
    logger.info("rollout %s: %s", rollout.pk, to)
    rollout.refresh_from_db()
    return rollout


def _not_started_record(rollout: Rollout, *, verb: str) -> None:
    """The tenants still waiting for their wave will not move in this rollout: say so, rather
    than leave them pending forever."""
    waiting = RolloutTenant.objects.filter(rollout=rollout, state=RolloutTenantState.PENDING)
    for from_version in set(waiting.values_list("from_version__version", flat=True)):
        waiting.filter(from_version__version=from_version).update(
            state=RolloutTenantState.NOT_STARTED,
            error=f"The rollout was {verb} before its upgrade was queued; it stays on "
            f"{from_version}.",
            updated_at=timezone.now(),
        )


def _refuse_in_flight(template: IntegrationTemplate) -> None:
    if Rollout.objects.filter(template=template, status__in=IN_FLIGHT_STATUSES).exists():
        raise _in_flight_error(template)


def _in_flight_error(template: IntegrationTemplate) -> RolloutInProgress:
    other = Rollout.objects.filter(template=template, status__in=IN_FLIGHT_STATUSES).first()
    which = f" ({other.pk}, {other.status})" if other is not None else ""
    return RolloutInProgress(
        f"Template {template.key} already has a rollout in flight{which}; let it finish, "
        "or abort it, first."
    )


# Rollouts that may still queue a wave to their version: a paused or a halted one is resumed.
_MAY_QUEUE = (R.RUNNING, R.PAUSED, R.HALTED)


def template_version_retire(*, version: TemplateVersion) -> TemplateVersion:
    """Retire the version (tenants.services.template_version_retire), refused while a rollout
    that may still queue a wave moves tenants to it: a retired version is no rollout target,
    yet that rollout would go on taking its later waves there (a halted one once resumed).
    Abort it first, or let it complete. A rollout rolling back from the version moves
    tenants away from it: no obstacle."""
    with transaction.atomic():
        template = IntegrationTemplate.objects.select_for_update().get(pk=version.template_id)
        rollout = (
            Rollout.objects.filter(to_version=version, status__in=_MAY_QUEUE)
            .order_by("created_at")
            .first()
        )
        if rollout is not None:
            raise RolloutInProgress(
                f"Version {version.version} of {template.key} is the target of rollout "
                f"{rollout.pk}, which is {_status_words(rollout.status)}: abort it, or let it "
                "complete, before retiring the version."
            )
        return tenant_services.template_version_retire(version=version)


# --- one tenant ---------------------------------------------------------------------------


def tenant_rollback(
    *, tenant: Tenant, to_version: TemplateVersion, requested_by: str = JobOrigin.API
) -> Job:
    """Move one tenant to `to_version` of its template: back to an older one, or on to a
    newer one ahead of (or without) a rollout. A pinned tenant is moved too: pins only keep
    rollouts away. Returns the queued upgrade job (or the same one, asked twice). A tenant
    being removed is refused first, whatever the version (`job_request` refuses it again under
    the tenant's lock, should a deprovision come in between)."""
    tenant_changeable_check(tenant=tenant)
    if to_version.retired_at is not None:
        raise VersionRetired(f"Version {to_version.version} is retired; choose another.")
    if tenant.template_version_id == to_version.pk:
        moving = (
            Job.objects.filter(
                tenant=tenant, kind=JobKind.UPGRADE, status__in=UNFINISHED_JOB_STATUSES
            )
            .select_related("target_version")
            .first()
        )
        if moving is not None:
            # "Already on it" read as "nothing will change", while the job will move it.
            raise TenantVersionConflict(
                f"The tenant is on version {to_version.version}, but its upgrade to "
                f"{moving.target_version.version} is {moving.status} (job {moving.pk}): "
                f"cancel that job (POST /api/v1/jobs/{moving.pk}/cancel) to keep it on "
                f"{to_version.version}, or move it back once the job has finished."
            )
        raise TenantVersionConflict(
            f"The tenant is already on version {to_version.version}.",
        )
    version_snapshot_check(to_version)
    # The upgrade job would fail on them (and leave a live tenant degraded): refused now.
    tenant_settings_for_version(tenant=tenant, version=to_version)
    return job_request(
        tenant=tenant, kind=JobKind.UPGRADE, requested_by=requested_by, target_version=to_version
    )


def tenant_pin(*, tenant: Tenant, pinned: bool) -> Tenant:
    """Pin the tenant to its version (rollouts skip it, and say so) or unpin it. Idempotent.
    A tenant being removed is refused, as any other change to it (TenantGone)."""
    with transaction.atomic():
        locked = Tenant.objects.select_for_update().get(pk=tenant.pk)
        tenant_changeable_check(tenant=locked)
        changed = (
            Tenant.objects.filter(pk=tenant.pk)
            .exclude(version_pinned=pinned)
            .update(version_pinned=pinned, updated_at=timezone.now())
        )
        if changed:
            audit_record(
                action="tenant.pin" if pinned else "tenant.unpin",
                target=tenant,
                before={"version_pinned": not pinned},
                after={"version_pinned": pinned},
            )
    tenant.refresh_from_db()
    return tenant
