"""Running one delivery of a job: claim it, run its unfinished steps in order, then finish,
postpone or fail it. Every write is fenced by the lease (see lease.py).

A step's success, the start of the next step and, after the last one, the job's success are
written in one transaction, so that a crash can never leave a job half-way between two steps.
Before it ends, a provision, repair or settings job checks that the tenant's settings did
not change while it ran; if they did, it runs its settings, enable and verify steps again,
so that a settings change asked for meanwhile is never lost. An upgrade, which has no settings
step, checks the settings its reconcile was planned with, and reconciles again.

Which errors are transient is the task's decision (see tasks.py: the error's own `retryable`
flag), and which of those mean integrator.io itself is unavailable (an outage); this module
applies them. Two budgets bound a job:

- the attempts cap (POLICY.max_attempts) counts runs that ended without recording an outcome
  (the worker died, the lease ran out, the message came again): a poison job. A run postponed
  by an outage records its outcome (`outage_retries` + 1) and so does not spend it;
- the retry window (POLICY.retry_window_seconds) bounds how long a job waits out outages,
  from the first one (`waiting_since`); once it is spent, the next outage fails the job.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import DatabaseError
from django.db.models import F
from django.utils import timezone

from audit.services import audit_record
from core.accounts import account_token_fix
from core.errors import ApplicationError
from core.integrator_client import rate_limit_redis
from core.integrator_outage import integrator_status
from core.log_context import bound
from integrator.circuit_breaker import CLOSED
from integrator.errors import (
    AuthenticationError,
    CircuitOpenError,
    IntegratorError,
    OutcomeUnknownError,
)
from provisioning import job_metrics
from provisioning.drift_clear import drift_close_deprovisioned, drift_confirmed_clear
from provisioning.errors import LeaseLost, StepFailed
from provisioning.job_progress import api_calls_insert, job_steps, job_still_held, tenant_settings
from provisioning.lease import (
    Fence,
    FencedClient,
    JobRun,
    calls_count,
    current_run,
    fenced,
    job_claim,
    lease_keep,
    shared_client,
)
from provisioning.models import (
    FINISHED_STEP_STATUSES,
    Job,
    JobKind,
    JobOrigin,
    JobStatus,
    JobStep,
    StepStatus,
)
from provisioning.policy import POLICY
from provisioning.settings_digest import settings_digest
from provisioning.signals import tenant_flows_observed
from provisioning.steps import STEPS, StepContext, Stop
from provisioning.tenant_status import GONE, tenant_fail, tenant_job_succeeded, tenant_move
from tenants.errors import SettingsInvalid
from tenants.models import (
    ConnectionStatus,
    TemplateVersion,
    Tenant,
    TenantConnection,
    TenantStatus,
)
from tenants.services import tenant_effective_settings
from webhooks.services import tenant_upgraded_event_record

logger = logging.getLogger(__name__)

SETTINGS_STEPS = ("settings", "enable", "reconcile", "verify")
# Settings changing again and again while a job runs must not keep it alive forever.
MAX_SETTINGS_ROUNDS = 3
# A running job's recorded steps lag behind it by at most this long (see _progress_waits).
PROGRESS_STALE_SECONDS = 2.0
# A boundary that waits checks that the run still holds the job (a cancel) unless the run saw
# it held this recently: steps that make no call follow each other within milliseconds.
HELD_CHECK_SECONDS = 0.25


@dataclass(frozen=True)
class RetryLater:
    countdown: float


def _never(error: BaseException) -> bool:
    return False


def job_run_once(
    *,
    job_id: str,
    owner: str,
    transient: Callable[[BaseException], bool],
    outage: Callable[[BaseException], bool] = _never,
) -> RetryLater | None:
    """Run the job `job_id` if it can be claimed. Returns RetryLater when an error that
    `transient` says may pass interrupted it and its budget allows another try (the retry
    window when `outage` says integrator.io was unavailable, the attempts cap otherwise);
    the caller schedules it."""
    run = job_claim(job_id=job_id, owner=owner)
    if run is None:
        logger.info("job %s not claimed: finished, canceled, not due, or held elsewhere", job_id)
        return None
    token = current_run.set(run)
    try:
        with bound(tenant=run.job.tenant.external_id, job=run.job.pk):
            return _run(run, transient, outage)
    finally:
        current_run.reset(token)
        calls_count(run)


def _run(
    run: JobRun,
    transient: Callable[[BaseException], bool],
    outage: Callable[[BaseException], bool],
) -> RetryLater | None:
    job = run.job
    logger.info("%s job attempt %d started", job.kind, job.attempts)
    try:
        if attempts_spent(job) > POLICY.max_attempts:
            # Every earlier attempt died without recording an outcome (a poison job).
            _fail(
                run,
                "attempts_exhausted",
                f"Gave up after {POLICY.max_attempts} attempts; the last ones stopped without "
                f"finishing. Last error: {job.error_message or 'none recorded'}",
            )
            return None
        try:
            _execute(run)
        except (LeaseLost, DatabaseError):
            raise
        except Exception as error:
            if outage(error):
                return _wait_for_integrator(run, error)
            if transient(error):
                return _postpone(run, error)
            if isinstance(error, IntegratorError | StepFailed | ApplicationError):
                code, message = _described_for(job, error)
                logger.warning("%s job failed: %s", job.kind, message)
                _fail(run, code, message)
            else:
                # A defect, not a condition of the remote: record it so the job does not sit
                # in `running` until its lease runs out, and leave the traceback to the log.
                logger.exception("%s job stopped by an unexpected error", job.kind)
                _fail(
                    run, "internal_error", f"Unexpected error ({type(error).__name__}); see logs."
                )
    except LeaseLost:
        logger.warning("%s job: lease lost (another worker or a cancel took over)", job.kind)
        # The calls were made all the same: keep their record.
        api_calls_insert(run.calls, at=timezone.now())
    return None


def _execute(run: JobRun) -> None:
    job = run.job
    steps = {step.name: step for step in job_steps(job=job)}
    outputs = {name: s.output for name, s in steps.items() if s.status == StepStatus.SUCCEEDED}
    queue = [s for s in steps.values() if s.status not in FINISHED_STEP_STATUSES]
    client = FencedClient(shared_client(job.tenant.account), run, keep=_keep)
    _advance(run, start=queue[0] if queue else None, begin=True, resumed=bool(outputs))
    rounds = 1
    while queue:
        step = queue.pop(0)
        result = STEPS[step.name](_context(run, step, client, outputs))
        if isinstance(result, Stop):
            _advance(run, finished=(step, result.output), skipped=queue, stop=result)
            return
        outputs[step.name] = result
        if not queue and rounds < MAX_SETTINGS_ROUNDS and _settings_changed(run, outputs):
            logger.info("the tenant's settings changed while the job ran; applying them too")
            rounds += 1
            queue = [steps[name] for name in SETTINGS_STEPS if name in steps]
        _advance(run, finished=(step, result), start=queue[0] if queue else None)


def _context(run: JobRun, step: JobStep, client: FencedClient, outputs: dict) -> StepContext:
    return StepContext(
        job=run.job,
        tenant=run.job.tenant,
        template=run.job.tenant.template_version,
        client=client,
        outputs=outputs,
        previous=dict(step.output),
        save=lambda values: _step_save(run, step, values),
        commit_integration=lambda integration_id: _commit_integration(run, integration_id),
        commit_connections_deleted=lambda ids: run.connections_deleted.extend(ids),
        move_tenant=lambda status: setattr(run, "tenant_status", status),
        load_settings=lambda fresh: _effective_settings(run, fresh=fresh),
    )


def _advance(
    run: JobRun,
    *,
    finished: tuple[JobStep, dict] | None = None,
    start: JobStep | None = None,
    skipped: list[JobStep] | None = None,
    stop: Stop | None = None,
    begin: bool = False,
    resumed: bool = False,
) -> None:
    """Finish a step, start the next one, or (when none is left) end the job successfully,
    moving the tenant as each of those asks: all in one transaction, or, between two steps
    when nothing must be written yet (see _progress_waits), in memory until the next one."""
    job = run.job
    now = timezone.now()
    if finished is not None:
        step, output = finished
        step.output = {**step.output, **output}
        step.status = StepStatus.SUCCEEDED
        step.finished_at = now
        run.unwritten[step.pk] = step
    if start is not None:
        start.attempts += 1
        start.status = StepStatus.RUNNING
        start.started_at = now
        start.finished_at = None
        start.error_code = start.error_message = ""
        run.unwritten[start.pk] = start
        run.step = start
    moves = begin and _begin_moves(job, resumed)
    if start is not None and not moves and _progress_waits(run):
        if begin:
            _begin(job.tenant, job.kind, resumed=resumed)
        elif time.monotonic() - run.held_seen_at >= HELD_CHECK_SECONDS:
            if not job_still_held(job=job, generation=run.generation):
                run.lost = True
                raise LeaseLost(f"job {job.pk} is no longer held by generation {run.generation}")
            run.held_seen_at = time.monotonic()
        return
    # The tenant row is locked only when its status may change.
    with _written(run, lock_tenant=moves or start is None) as fence:
        now = fence.now
        tenant = fence.tenant or job.tenant
        if begin:
            _begin(tenant, job.kind, resumed=resumed)
        if skipped:
            JobStep.objects.filter(pk__in=[s.pk for s in skipped]).update(status=StepStatus.SKIPPED)
        if start is not None:
            return
        # A job that stopped early did nothing: it must not say "succeeded". (A provision is
        # refused while slots are missing; this happens only when credentials went away
        # between the request and the run.)
        ended = JobStatus.CANCELED if stop else JobStatus.SUCCEEDED
        job_metrics.job_ended(job=job, outcome=ended, at=now)
        Job.objects.filter(pk=job.pk).update(
            status=ended,
            finished_at=now,
            lease_owner="",
            lease_expires_at=None,
            error_code=stop.reason if stop else "",
            error_message=stop.message if stop else "",
        )
        if stop is not None:
            waiting = ", ".join(stop.output.get("waiting_for", []))
            tenant_move(
                tenant=tenant,
                to=TenantStatus.AWAITING_CREDENTIALS,
                fallback_error=f"Waiting for credentials: {waiting}",
            )
        elif job.kind == JobKind.DEPROVISION:
            tenant_move(tenant=tenant, to=TenantStatus.DEPROVISIONED)
            tenant_flows_observed.send(sender=Job, tenant=job.tenant, flows=[])
            drift_close_deprovisioned(tenant=tenant, at=now)
        else:
            if job.kind == JobKind.UPGRADE:
                # The integration now is the target version: so is the tenant, from now on.
                Tenant.objects.filter(pk=tenant.pk).update(template_version=job.target_version_id)
                _upgraded_event_record(job, tenant)
            observed = finished[1].get("observed_flows") if finished else None
            if observed is not None:
                flows = [tuple(flow) for flow in observed]
                tenant_flows_observed.send(sender=Job, tenant=job.tenant, flows=flows)
                # The reconcile step's last round planned nothing against the version the
                # tenant is on now: that is a drift check, and a clean one.
                drift_confirmed_clear(tenant=tenant, at=now)
            # After the flows and the drift the job has just confirmed: whatever still holds
            # the tenant degraded is judged on them (a repaired deleted flow holds it no more).
            tenant_job_succeeded(tenant=tenant)
    logger.info("%s job %s", job.kind, f"stopped: {stop.message}" if stop else "succeeded")


def _upgraded_event_record(job: Job, tenant: Tenant) -> None:
    """`tenant.upgraded` for an upgrade job that moved the tenant (`tenant`, locked, still
    holds the version it was on) to another version, asked for on its own (the API's
    `POST /tenants/{id}/upgrade`): the host app hears of the move as of a rollout's, which its
    driver records with the rollout's id. A reconcile to the version the tenant is on (the
    drift repair's) moves nothing and is none."""
    if job.requested_by == JobOrigin.ROLLOUT or tenant.template_version_id == job.target_version_id:
        return
    versions = dict(
        TemplateVersion.objects.filter(
            pk__in=(tenant.template_version_id, job.target_version_id)
        ).values_list("pk", "version")
    )
    tenant_upgraded_event_record(
        tenant=tenant,
        job_id=job.pk,
        from_version=versions[tenant.template_version_id],
        to_version=versions[job.target_version_id],
    )


def _keep(run: JobRun) -> None:
    """Before each call to integrator.io: the lease (lease_keep), and the steps' progress
    once it is PROGRESS_STALE_SECONDS old (a slow step's calls do not hide it)."""
    if run.unwritten and time.monotonic() - run.written_at >= PROGRESS_STALE_SECONDS:
        with _written(run):
            pass
    else:
        lease_keep(run)


def _progress_waits(run: JobRun) -> bool:
    """Whether the step boundary just reached may stay in memory until the run's next write.

    Each write is a transaction (the fence, the steps, the call log, a commit), and a job
    used to make one per step: more of the worker's and the database's time than its calls
    to integrator.io (bench/provision.py). Resuming never depends on a boundary being written
    (every step is idempotent and an interrupted run starts again at its first unwritten
    step), so one is written now only when it must be:
    - a clone was made (its id is written at once: see _commit_integration), or connections
      were deleted;
    - PROGRESS_STALE_SECONDS have passed since the run last wrote, so that a person watching
      a job sees its steps no later than that (_keep applies the same before each call);
    and otherwise with the next write: a step's recorded intent (ctx.save, before a clone),
    a lease renewal, a retry or failure, the job's end. A boundary that waits still checks,
    in one read, that the run holds the job (a cancel stops it there, as before), unless it
    saw so less than HELD_CHECK_SECONDS ago."""
    if run.integration_id is not None or run.connections_deleted:
        return False
    return time.monotonic() - run.written_at < PROGRESS_STALE_SECONDS


def _begin_moves(job: Job, resumed: bool) -> bool:
    return job.kind in (JobKind.DEPROVISION, JobKind.UPDATE_SETTINGS) or resumed


def _begin(tenant: Tenant, kind: str, *, resumed: bool) -> None:
    """Tenant status as the job starts. A fresh provision or repair moves it in its first
    step (which decides between provisioning and waiting for credentials); a resumed one,
    e.g. retried after it failed, is past that step."""
    if kind == JobKind.DEPROVISION:
        tenant_move(tenant=tenant, to=TenantStatus.DEPROVISIONING)
    elif tenant.status in GONE:
        raise StepFailed(
            "tenant_deprovisioned", f"The tenant is {tenant.status}; it takes no new work."
        )
    elif tenant.status == TenantStatus.FAILED and (resumed or kind == JobKind.UPDATE_SETTINGS):
        tenant_move(tenant=tenant, to=TenantStatus.PROVISIONING)


@contextlib.contextmanager
def _written(run: JobRun, *, lock_tenant: bool = False) -> Iterator[Fence]:
    """A fenced transaction (lease.fenced: it writes the run's unwritten steps and call log)
    that also writes what the run's steps did to the tenant: its integration id, the
    connections they deleted, the status they moved it to."""
    with fenced(run, lock_tenant=lock_tenant or run.tenant_status is not None) as fence:
        if run.integration_id is not None:
            Tenant.objects.filter(pk=run.job.tenant_id).update(integration_id=run.integration_id)
        if run.connections_deleted:
            # The tenant's record follows what the job removed, so that it never shows a
            # deleted connection as working.
            TenantConnection.objects.filter(
                tenant_id=run.job.tenant_id, connection_id__in=run.connections_deleted
            ).update(
                connection_id="",
                status=ConnectionStatus.MISSING,
                last_ping_error="",
                updated_at=timezone.now(),
            )
        if run.tenant_status is not None:
            tenant_move(tenant=fence.tenant, to=run.tenant_status)
        yield fence
    # Only once committed: a write that rolled back is made again by the next one.
    run.integration_id = None
    run.connections_deleted = []
    run.tenant_status = None


def _step_save(run: JobRun, step: JobStep, values: dict) -> None:
    step.output = {**step.output, **values}
    run.unwritten[step.pk] = step
    with _written(run):
        pass


def _commit_integration(run: JobRun, integration_id: str) -> None:
    # Written with the step's next database write (its success, or the record of its retry
    # or failure); for a clone that is the very next thing done after the POST answers.
    # Should the worker die before it, the next attempt finds the clone by its tag.
    run.integration_id = integration_id
    run.job.tenant.integration_id = integration_id


# --- settings as this run sees them ---------------------------------------------------------------


def _effective_settings(run: JobRun, *, fresh: bool) -> dict:
    """The tenant's effective settings, validated only when they changed since this run last
    read them. The first ask takes them from the tenant row read with the claim (this run's
    own read, moments ago); `fresh` reads them again once the run has used them (a change
    made meanwhile is found by the end's check, `_settings_changed`, and applied)."""
    tenant = run.job.tenant
    if fresh and run.settings is not None:
        tenant.settings = tenant_settings(tenant_pk=tenant.pk)
    if run.settings is None or run.settings[0] != tenant.settings:
        run.settings = (copy.deepcopy(tenant.settings), tenant_effective_settings(tenant=tenant))
    return run.settings[1]


def _settings_changed(run: JobRun, outputs: dict) -> bool:
    applied = outputs.get("settings", {}).get("digest")
    if applied is None:
        # No settings step (an upgrade): the settings its reconcile step planned with. A
        # settings change asked for while it ran was answered with this job (job_request's
        # `_covers`), so it must reach integrator.io before the job ends.
        planned = outputs.get("reconcile", {}).get("overrides_digest")
        if planned is None:
            return False
        tenant = run.job.tenant
        tenant.settings = tenant_settings(tenant_pk=tenant.pk)
        return settings_digest(tenant.settings) != planned
    try:
        return settings_digest(_effective_settings(run, fresh=True)) != applied
    except SettingsInvalid:
        return False  # the next settings job reports it


# --- retry or fail ------------------------------------------------------------------------------


def attempts_spent(job: Job) -> int:
    """The claims that count against the attempts cap, this one included: every run except
    those that ended postponed by an outage (they recorded their outcome)."""
    return job.attempts_spent


def _postpone(run: JobRun, error: BaseException) -> RetryLater | None:
    """A transient error that is not integrator.io's unavailability (e.g. a prefork soft time
    limit): retried within the attempts cap."""
    code, message = describe_error(error)
    # The attempts the cap counts, this one included: runs postponed by an outage are none.
    attempt = attempts_spent(run.job)
    if attempt >= POLICY.max_attempts:
        logger.warning("giving up after %d attempts: %s", attempt, message)
        _fail(run, code, f"Gave up after {attempt} attempts. Last error: {message}")
        return None
    countdown = _settled(
        error,
        POLICY.retry_countdown(attempt=attempt, retry_after=getattr(error, "retry_after", None)),
    )
    return _requeue(
        run,
        error,
        countdown=countdown,
        job_message=f"Attempt {attempt} failed, retrying: {message}",
    )


def _wait_for_integrator(run: JobRun, error: BaseException) -> RetryLater | None:
    """integrator.io was unavailable: try again later, within the retry window, without
    spending an attempt. The backoff grows with the outage retries, honours the error's
    `retry_after` (a 429, an open circuit's next probe), and never runs past the window's
    end, so that the last try happens at it."""
    _, message = describe_error(error)
    job = run.job
    now = timezone.now()
    since = job.waiting_since or now
    deadline = since + timedelta(seconds=POLICY.retry_window_seconds)
    if now >= deadline:
        window = duration_words(POLICY.retry_window_seconds)
        logger.warning("integrator.io unavailable for %s; giving up: %s", window, message)
        _fail(
            run,
            "integrator_unavailable",
            f"integrator.io was unavailable for {window} (last error: {message})",
        )
        return None
    retries = job.outage_retries + 1
    if isinstance(error, CircuitOpenError) and _integrator_back(job):
        # Refused while the breaker was open or probing, and it has closed since: a call of
        # this very run was the probe (side by side, its siblings are refused while it is
        # out), or another process's was. The jobs waiting were sent at the close, but this
        # one was running then: it goes again after the first step of the backoff, not the
        # one its retries grew to (up to PROVISIONING_RETRY_MAX_SECONDS).
        countdown = POLICY.retry_countdown(attempt=1)
    else:
        countdown = POLICY.retry_countdown(
            attempt=retries, retry_after=getattr(error, "retry_after", None)
        )
    countdown = _settled(error, min(countdown, max(0.0, (deadline - now).total_seconds())))
    due = now + timedelta(seconds=countdown)
    return _requeue(
        run,
        error,
        countdown=countdown,
        job_message=(
            f"Waiting for integrator.io since {since:%Y-%m-%d %H:%M:%S} UTC (retry {retries}, "
            f"next at {due:%H:%M:%S} UTC, gives up at {deadline:%Y-%m-%d %H:%M:%S} UTC): "
            f"{message}"
        ),
        outage_since=since,
    )


def _integrator_back(job: Job) -> bool:
    """Whether the breaker of the job's integrator.io account is closed now (not when Redis
    cannot say)."""
    return integrator_status(rate_limit_redis(), job.tenant.account).state == CLOSED


def _settled(error: BaseException, countdown: float) -> float:
    """The countdown, made long enough for a request whose answer was lost to land before the
    next attempt looks for it. Applied before a message names the next attempt's time."""
    if isinstance(error, OutcomeUnknownError):
        return max(countdown, POLICY.outcome_settle_seconds)
    return countdown


def _requeue(
    run: JobRun,
    error: BaseException,
    *,
    countdown: float,
    job_message: str,
    outage_since: datetime | None = None,
) -> RetryLater:
    """Back to the queue, due in `countdown` seconds. `outage_since`: an outage postponed it,
    which is recorded as its outcome (so this run does not count against the attempts cap)."""
    code, message = describe_error(error)
    outage = (
        {"outage_retries": F("outage_retries") + 1, "waiting_since": outage_since}
        if outage_since is not None
        else {}
    )
    with _written(run) as fence:
        now = fence.now
        if run.step is not None:
            JobStep.objects.filter(pk=run.step.pk).update(
                status=StepStatus.PENDING, error_code=code, error_message=message
            )
        Job.objects.filter(pk=run.job.pk).update(
            status=JobStatus.QUEUED,
            due_at=now + timedelta(seconds=countdown),
            lease_owner="",
            lease_expires_at=None,
            error_code=code,
            error_message=job_message,
            **outage,
        )
        job_metrics.job_postponed(
            job=run.job, reason="outage" if outage_since is not None else "transient"
        )
    logger.info("attempt %d postponed (%s); retry in %.1fs", run.job.attempts, message, countdown)
    return RetryLater(countdown=countdown)


def duration_words(seconds: float) -> str:
    """A window in the largest unit that divides it: "24 h", "90 min", "20 s"."""
    whole = round(seconds)
    if whole and whole % 3600 == 0:
        return f"{whole // 3600} h"
    if whole and whole % 60 == 0:
        return f"{whole // 60} min"
    return f"{seconds:g} s"


def _fail(run: JobRun, code: str, message: str) -> None:
    with _written(run, lock_tenant=True) as fence:
        now = fence.now
        # The step this run was in, or the one a dead worker left running.
        failed = (
            JobStep.objects.filter(pk=run.step.pk)
            if run.step is not None
            else run.job.steps.filter(status=StepStatus.RUNNING)
        )
        for step in failed:
            job_metrics.step_ended(step=step, outcome=StepStatus.FAILED, at=now)
        failed.update(
            status=StepStatus.FAILED, finished_at=now, error_code=code, error_message=message
        )
        job_metrics.job_ended(job=run.job, outcome=JobStatus.FAILED, at=now, error_code=code)
        Job.objects.filter(pk=run.job.pk).update(
            status=JobStatus.FAILED,
            finished_at=now,
            lease_owner="",
            lease_expires_at=None,
            error_code=code,
            error_message=message,
        )
        # The system's own decision (attempts spent, a permanent error): recorded as such,
        # with the worker's task as the actor.
        audit_record(
            action="job.fail",
            target=run.job,
            tenant=fence.tenant.external_id,
            before={"status": run.job.status},
            after={"status": JobStatus.FAILED, "error_code": code, "error_message": message},
        )
        # A tenant being deprovisioned is no longer this job's to mark.
        if run.job.kind == JobKind.DEPROVISION or fence.tenant.status not in GONE:
            tenant_fail(tenant=fence.tenant, error=message)


def describe_error(error: BaseException) -> tuple[str, str]:
    """(code, readable message) for the job and the tenant. Never bodies or secrets: the
    client's messages carry method, path, status and the remote's own message only."""
    if isinstance(error, StepFailed):
        return error.code, error.message
    if isinstance(error, ApplicationError):
        details = "; ".join(f"{k}: {' '.join(v)}" for k, v in sorted(error.fields.items()))
        return error.code, error.message + (f" ({details})" if details else "")
    if isinstance(error, IntegratorError):
        return integrator_error_code(type(error)), f"integrator.io: {error}"
    return _snake(type(error).__name__), str(error) or type(error).__name__


def integrator_error_code(kind: type[IntegratorError]) -> str:
    """The `error_code` a job records for an integrator.io error of class `kind`
    (CircuitOpenError: "circuit_open")."""
    return _snake(kind.__name__.removesuffix("Error"))


def _described_for(job: Job, error: BaseException) -> tuple[str, str]:
    """`describe_error`, except that integrator.io refusing the account's own API token (401,
    or 403 for a call its scope does not cover) names the account and how an operator replaces
    the token: no retry helps until then, and the tenant's own credentials are not at fault."""
    if not isinstance(error, AuthenticationError):
        return describe_error(error)
    account = job.tenant.account
    return "integrator_token_refused", (
        f"integrator.io refused this service's API token of account {account.key!r} "
        f"(integrator.io: {error}), so the job stopped; the tenant's own credentials are not "
        f"at fault. An operator must {account_token_fix(account)}, then retry the job."
    )


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")
