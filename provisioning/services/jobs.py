"""Asking for, retrying and canceling jobs: what the API, the credential forms and the admin call.

At most one unfinished job per tenant (a database constraint). What `job_request` does when
the tenant already has one:

| unfinished job         | requested          | outcome                                        |
| ---------------------- | ------------------ | ---------------------------------------------- |
| same kind              | any                | that job is returned (asking twice is safe)    |
| provision, repair,     | update_settings    | that job is returned: before it ends, it       |
| update_settings or     |                    | applies the settings as they are then          |
| upgrade                |                    |                                                |
| any other              | deprovision        | it is canceled and the deprovision queued; if  |
|                        |                    | it was running, not before its lease runs out  |
| any other              | any other          | JobConflict (409): retry when it has finished  |

Which kinds each tenant status allows is in `_ALLOWED`; a tenant being (or already)
deprovisioned takes only deprovision jobs. A job's message is sent when the caller's transaction
commits (`core.outbox.send_on_commit`): nothing is sent if it rolls back, and a broker that
cannot take the message leaves the queued row to the sweeper.
"""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from audit.services import audit_record
from core.outbox import send_on_commit
from provisioning import job_metrics
from provisioning.errors import (
    CredentialsMissing,
    JobConflict,
    JobFinished,
    JobNotAllowed,
    JobNotRetryable,
    JobSuperseded,
)
from provisioning.models import (
    UNFINISHED_JOB_STATUSES,
    Job,
    JobKind,
    JobOrigin,
    JobStatus,
    JobStep,
    StepStatus,
)
from provisioning.signals import job_retried
from provisioning.steps import PLANS
from provisioning.tasks import job_run
from provisioning.tenant_status import tenant_fail
from tenants.errors import TenantGone
from tenants.models import TemplateVersion, Tenant, TenantStatus
from tenants.selectors import tenant_slots_not_ready
from tenants.services import tenant_deprovision, tenant_transition

logger = logging.getLogger(__name__)

S = TenantStatus
_ALLOWED: dict[str, frozenset[str]] = {
    JobKind.PROVISION: frozenset({S.AWAITING_CREDENTIALS, S.FAILED, S.PROVISIONING}),
    JobKind.REPAIR: frozenset({S.ACTIVE, S.DEGRADED, S.FAILED, S.PROVISIONING}),
    JobKind.UPDATE_SETTINGS: frozenset({S.ACTIVE, S.DEGRADED, S.FAILED}),
    JobKind.DEPROVISION: frozenset(set(S) - {S.DEPROVISIONED}),
    JobKind.UPGRADE: frozenset({S.ACTIVE, S.DEGRADED, S.FAILED}),
}
_WHY_NOT = {
    JobKind.PROVISION: "The tenant is {status}: it has its integration; request a repair instead.",
    # Not "provision it": a tenant awaiting credentials is provisioned by itself once they
    # work, and a provision asked for before then is refused for the same reason.
    JobKind.REPAIR: (
        "The tenant is {status}: it has no integration to repair yet. It is provisioned by "
        "itself once every connection works: hand over the credentials (PUT "
        "/api/v1/tenants/{{external_id}}/connections/{{slot}}) or send the customer a connect "
        "link."
    ),
    JobKind.UPDATE_SETTINGS: (
        "The tenant is {status}: its settings are applied when it is provisioned."
    ),
    # Its own version, not the template's newest: a tenant registered before a newer version
    # was published is built to the version it was registered on (rollouts.plan).
    JobKind.UPGRADE: (
        "The tenant is {status}: its integration is not built yet. It is built to its own "
        "version, {version} (its template.version), when it is provisioned; move it to "
        "another with an upgrade once it is live."
    ),
}


def job_request(
    *,
    tenant: Tenant,
    kind: str,
    requested_by: str,
    target_version: TemplateVersion | None = None,
    audited: bool = True,
) -> Job:
    """Queue a job of `kind` for `tenant` (or return the unfinished one that covers it). An
    upgrade takes the version to move to, `target_version`, a version of the tenant's
    template (an older one for a rollback).

    A new job is recorded in the audit log as `tenant.<kind>`, unless `audited` is false: a
    use case that queues the job as part of a change it records itself (a settings update,
    credentials handed over) passes False, so that one request makes one event."""
    kind, origin = JobKind(kind), JobOrigin(requested_by)
    if (kind == JobKind.UPGRADE) != (target_version is not None):
        raise ValueError("an upgrade, and only an upgrade, takes a target_version")
    if target_version is not None and target_version.template_id != tenant.template_id:
        raise JobNotAllowed("That version belongs to another template than the tenant's.")
    with transaction.atomic():
        # Serialises the requests of one tenant; the constraint backs it up.
        locked = Tenant.objects.select_for_update().get(pk=tenant.pk)
        current = Job.objects.filter(tenant=locked, status__in=UNFINISHED_JOB_STATUSES).first()
        due_at = _canceled_runs_done(locked)
        if current is not None:
            same = current.kind == kind and current.target_version_id == (
                target_version.pk if target_version else None
            )
            if same or _covers(current, kind):
                return current
            if kind != JobKind.DEPROVISION:
                raise JobConflict(
                    f"The tenant already has a {current.kind} job ({current.status}); "
                    "retry when it has finished.",
                )
            due_at = max(due_at, _supersede(current))
        if locked.status == S.DEPROVISIONED and kind == JobKind.DEPROVISION:
            done = Job.objects.filter(tenant=locked, kind=kind).first()
            if done is not None:
                return done
        if locked.status not in _ALLOWED[kind]:
            if locked.status in (S.DEPROVISIONING, S.DEPROVISIONED):
                raise TenantGone(f"The tenant is {locked.status}; it takes no new work.")
            raise JobNotAllowed(
                _WHY_NOT[kind].format(status=locked.status, version=locked.template_version.version)
            )
        if kind == JobKind.PROVISION:
            _require_credentials(locked)
        if kind == JobKind.UPDATE_SETTINGS and not locked.integration_id:
            raise JobNotAllowed(
                "The tenant has no integration yet; its settings are applied when it is "
                "provisioned."
            )
        status_before = locked.status
        if kind == JobKind.DEPROVISION:
            tenant_deprovision(tenant=locked)
        job = _job_create(
            tenant=locked, kind=kind, origin=origin, due_at=due_at, target_version=target_version
        )
        if kind == JobKind.PROVISION and locked.status != S.PROVISIONING:
            # From the moment it is asked for, not when a worker starts it: a tenant whose
            # slots all work is never shown as still awaiting credentials.
            tenant_transition(tenant=locked, to=S.PROVISIONING)
        if audited:
            audit_record(
                action=f"tenant.{kind}",
                target=locked,
                before={"status": status_before},
                after={
                    "status": locked.status,
                    "job": job.pk,
                    **({"target_version": target_version.version} if target_version else {}),
                },
            )
    _refresh_status(tenant, locked)
    logger.info("queued %s job %s for tenant %s (%s)", kind, job.pk, tenant.external_id, origin)
    return job


def _require_credentials(tenant: Tenant) -> None:
    """A provision without a working connection for every slot would do nothing: refuse it,
    naming the slots, rather than queue a job that ends at its first step."""
    missing = tenant_slots_not_ready(tenant=tenant)
    if missing:
        raise CredentialsMissing(
            f"The tenant has no working connection for: {', '.join(missing)}. Hand over the "
            "credentials (PUT /api/v1/tenants/{external_id}/connections/{slot}) or send the "
            "customer a connect link; provisioning starts by itself once every slot works.",
            fields={f"connections.{slot}": ["No working connection yet."] for slot in missing},
        )


def _covers(current: Job, kind: str) -> bool:
    """Any provision, repair, settings or upgrade job applies the settings as they are when
    it ends (it checks before finishing, see runner.py)."""
    return kind == JobKind.UPDATE_SETTINGS and current.kind != JobKind.DEPROVISION


def _supersede(current: Job):
    """Cancel `current` for a deprovision; returns when the deprovision may start (after the
    lease of a running job has run out, so that no call of the old run is still in flight)."""
    return _cancel_row(current, reason="Canceled: the tenant is being deprovisioned.")


def _canceled_runs_done(tenant: Tenant):
    """When a new job of `tenant` may start: now, or later while a run of a job canceled as it
    ran may still have an integrator.io call in flight (its `due_at`, see _cancel_row). A call
    in flight still lands, and the fenced run records nothing of it: a clone on its way, say,
    which a provision started at once would not find by its tag and would make again beside
    it. Started after it, the provision finds it and takes it."""
    now = timezone.now()
    latest = (
        Job.objects.filter(tenant=tenant, status=JobStatus.CANCELED, due_at__gt=now)
        .order_by("-due_at")
        .values_list("due_at", flat=True)
        .first()
    )
    return max(now, latest) if latest else now


def _job_create(
    *, tenant: Tenant, kind: str, origin: str, due_at, target_version: TemplateVersion | None
) -> Job:
    try:
        with transaction.atomic():
            job = Job.objects.create(
                tenant=tenant,
                kind=kind,
                requested_by=origin,
                due_at=due_at,
                target_version=target_version,
            )
    except IntegrityError:
        raise JobConflict("The tenant already has an unfinished job.") from None
    # Both columns are set from the row as it was: the old latest job becomes the previous one.
    Tenant.objects.filter(pk=tenant.pk).update(previous_job=F("latest_job"), latest_job=job)
    JobStep.objects.bulk_create(
        JobStep(job=job, name=name, position=position)
        for position, name in enumerate(PLANS[kind], start=1)
    )
    # Positive for a deprovision waiting for a superseded run's lease to run out.
    countdown = (due_at - timezone.now()).total_seconds()
    send_on_commit(job_run, str(job.pk), countdown=countdown if countdown > 0 else None)
    return job


def job_retry(*, job: Job, requested_by: str) -> Job:
    """Run a failed or canceled job again, from its first unfinished step, with a fresh
    attempt budget. Only the tenant's latest job can be retried."""
    origin = JobOrigin(requested_by)
    with transaction.atomic():
        tenant = Tenant.objects.select_for_update().get(pk=job.tenant_id)
        locked = Job.objects.select_for_update().get(pk=job.pk)
        if locked.status not in (JobStatus.FAILED, JobStatus.CANCELED):
            raise JobNotRetryable(
                # No "this one": the admin says one reason for every job it refused for it.
                f"Only a failed or canceled job can be retried, not a {locked.status} one."
            )
        newer = (
            Job.objects.filter(tenant=tenant, created_at__gt=locked.created_at)
            .order_by("-created_at")
            .first()
        )
        if newer is not None:
            # Each outcome its own code, so that a host app can tell "wait" from "ask again".
            # Only a newer job that failed or was canceled can be retried in its place; after
            # one that succeeded the work is asked for again; one under way refuses any other
            # job until it has finished (`job_in_progress`, as `job_request` says it).
            named = f"A newer job of this tenant ({newer.kind} {newer.pk}, {newer.status})"
            if newer.status in UNFINISHED_JOB_STATUSES:
                raise JobConflict(
                    f"{named} is under way, and only the latest job can be retried: once it "
                    f"has finished, ask for a new {locked.kind} if it is still needed."
                )
            then = (
                "retry that one instead."
                if newer.status in (JobStatus.FAILED, JobStatus.CANCELED)
                else f"ask for a new {locked.kind} instead."
            )
            raise JobSuperseded(
                f"{named} came after this one, and only the latest job can be retried: {then}"
            )
        gone = tenant.status in (S.DEPROVISIONING, S.DEPROVISIONED)
        if tenant.status == S.DEPROVISIONED or (gone and locked.kind != JobKind.DEPROVISION):
            raise TenantGone(f"The tenant is {tenant.status}; it takes no new work.")
        # A job canceled as it ran starts again once its run can make no more calls.
        due_at = _canceled_runs_done(tenant)
        try:
            with transaction.atomic():
                Job.objects.filter(pk=locked.pk).update(
                    status=JobStatus.QUEUED,
                    attempts=0,
                    outage_retries=0,
                    waiting_since=None,
                    due_at=due_at,
                    finished_at=None,
                    error_code="",
                    error_message="",
                )
        except IntegrityError:
            raise JobConflict("The tenant already has an unfinished job.") from None
        locked.steps.exclude(status=StepStatus.SUCCEEDED).update(
            status=StepStatus.PENDING, error_code="", error_message="", finished_at=None
        )
        if locked.kind == JobKind.PROVISION and tenant.status == S.FAILED:
            # As `job_request` does: provisioning from the moment it is asked for again.
            tenant_transition(tenant=tenant, to=S.PROVISIONING)
        audit_record(
            action="job.retry",
            target=locked,
            tenant=tenant.external_id,
            before={"status": locked.status},
            after={"status": JobStatus.QUEUED},
        )
        locked.status = JobStatus.QUEUED
        job_retried.send(sender=Job, job=locked)
        countdown = (due_at - timezone.now()).total_seconds()
        send_on_commit(job_run, str(locked.pk), countdown=countdown if countdown > 0 else None)
    logger.info("job %s retried (%s)", job.pk, origin)
    job.refresh_from_db()
    return job


def job_cancel(*, job: Job) -> Job:
    """Cancel a queued or running job. A running worker notices at its next lease check and
    stops; the call it has in flight, if any, still completes (every step is idempotent, so a
    later job picks up from whatever it left)."""
    with transaction.atomic():
        tenant = Tenant.objects.select_for_update().get(pk=job.tenant_id)
        locked = Job.objects.select_for_update().get(pk=job.pk)
        if locked.is_finished:
            raise JobFinished(f"The job has already finished ({locked.status}).")
        _cancel_row(locked, reason="Canceled.")
        audit_record(
            action="job.cancel",
            target=locked,
            tenant=tenant.external_id,
            before={"status": locked.status},
            after={"status": JobStatus.CANCELED},
        )
        if tenant.status in (S.PROVISIONING, S.DEPROVISIONING):
            kind = JobKind(locked.kind).label.lower()
            tenant_fail(tenant=tenant, error=f"The {kind} job was canceled before it finished.")
    job.refresh_from_db()
    return job


def _cancel_row(job: Job, *, reason: str):
    """Cancel `job`; returns when its run can make no more integrator.io calls: the end of
    its lease for a job a run holds (it stops at its next lease check, but a call in flight
    still lands), now for one no run holds. Kept as the canceled job's `due_at`, no job of
    the tenant starts before it (_canceled_runs_done, job_retry)."""
    now = timezone.now()
    held_until = job.lease_expires_at if job.status == JobStatus.RUNNING else None
    calls_until = max(now, held_until) if held_until else now
    # Counted here (once the transaction commits): the worker holding the job, fenced out
    # below, counts nothing, and a queued job has no worker to count it.
    job_metrics.job_ended(job=job, outcome=JobStatus.CANCELED, at=now)
    Job.objects.filter(pk=job.pk).update(
        status=JobStatus.CANCELED,
        finished_at=now,
        lease_owner="",
        lease_expires_at=None,
        # Fences out the worker that holds the job, if any.
        lease_generation=F("lease_generation") + 1,
        error_code="canceled",
        error_message=reason,
        due_at=calls_until,
    )
    job.steps.filter(status__in=(StepStatus.PENDING, StepStatus.RUNNING)).update(
        status=StepStatus.SKIPPED
    )
    return calls_until


def _refresh_status(tenant: Tenant, locked: Tenant) -> None:
    for name in ("status", "status_changed_at", "last_error"):
        setattr(tenant, name, getattr(locked, name))
