"""What ops and the host app can ask of a tenant's flows: run one now; read, resolve and
retry a run's errors (the errors' use cases are in `run_errors.py`).

All call integrator.io while the request waits, through the runs'
client (interactive: no long waits), and turn its errors into the API's: rate limited is a
429 and unavailable a 503, each with Retry-After; a refused request a 422 with the remote's
answer in `remote`; a lost run answer a 502 that says to look before asking again (a second
POST would be a second run).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass

import redis

from audit.services import Target, audit_record
from core.integrator_client import remote_error_for_caller
from core.namespace import redis_key
from core.outbox import send_on_commit
from core.redis_state import state_redis
from integrator import errors as remote
from provisioning.flow_switches import flow_switches
from provisioning.models import Job, JobStatus
from runs.call_budget import tenant_runs_client
from runs.checks import tenant_connections_check
from runs.errors import (
    ConnectionCheckTooSoon,
    FlowDisabled,
    FlowNotFound,
    NoConnectionsToCheck,
    RunNotFound,
    RunOutcomeUnknown,
    RunRefused,
    TenantNotLive,
)
from runs.follow import run_mirror
from runs.mirror import tenant_flows_refresh
from runs.models import FlowRun, FlowRunError, TenantFlow
from runs.run_errors import (
    RetriedRunErrors,
    run_errors_refresh,
    run_errors_resolve,
    run_errors_retry,
)
from runs.scheduling import LIVE_STATUSES, sync_state_for
from runs.tasks import RUN_FOLLOW_FIRST_SECONDS, run_follow_task
from tenants.errors import SettingsInvalid, TenantGone
from tenants.models import CallPurpose, Tenant, TenantConnection
from tenants.services import tenant_changeable_check
from tenants.services.settings import tenant_effective_settings
from tenants.services.tenants import GONE_STATUSES

logger = logging.getLogger(__name__)


def _require_live(tenant: Tenant) -> None:
    if tenant.status in GONE_STATUSES:
        # Never live again: the refusal of every other change to it, not "once it is active".
        raise TenantGone(f"The tenant is {tenant.status}; its flows no longer run.")
    if tenant.status not in LIVE_STATUSES:
        raise TenantNotLive(
            f"The tenant is {tenant.status}; its flows run once it is active or degraded."
        )
    if not tenant.integration_id:
        # Live already: "once it is active or degraded" would say to wait for what it is.
        raise TenantNotLive(
            f"The tenant is {tenant.status} but has no integration in integrator.io yet; its "
            "flows run once a repair makes one."
        )


def _answered(error: remote.IntegratorError) -> dict:
    return {"status": error.status, "message": error.message}


@dataclass(frozen=True)
class StartedRun:
    """A run integrator.io accepted. `run` is its mirror row, or None when the job could not
    be read back yet (the next sync adds it)."""

    flow_id: str
    job_id: str
    run: FlowRun | None


def flow_run_start(*, tenant: Tenant, flow_id: str) -> StartedRun:
    """Run one of the tenant's flows now, and mirror the new run (queued)."""
    _refuse_disabled(tenant, _flow_known(tenant=tenant, flow_id=flow_id), flow_id)
    _require_live(tenant)
    with tenant_runs_client(tenant=tenant, interactive=True) as client:
        try:
            flow = _flow_known(tenant=tenant, flow_id=flow_id)
            if flow is None:
                tenant_flows_refresh(tenant=tenant, client=client)
                flow = _flow_known(tenant=tenant, flow_id=flow_id)
                if flow is None:
                    raise FlowNotFound(f"The tenant has no flow {flow_id!r}.")
            _refuse_disabled(tenant, flow, flow_id)
            started = client.run_flow(flow_id)
        except remote.OutcomeUnknownError:
            raise RunOutcomeUnknown(
                "integrator.io may have started the run, but its answer was lost. Look at "
                "the tenant's runs before asking again."
            ) from None
        except remote.NotFoundError:
            raise FlowNotFound(f"integrator.io has no flow {flow_id!r}.") from None
        except remote.ValidationError as error:
            raise RunRefused(
                "integrator.io refused to run the flow.", remote=_answered(error)
            ) from None
        except remote.IntegratorError as error:
            raise remote_error_for_caller(
                error, not_done="the flow was not started", account=tenant.account
            ) from None
        try:
            job = client.get_job(started.job_id)
        except remote.IntegratorError:
            job = None  # the run did start: never report this as a failure to retry
    if job is not None:
        run_mirror(tenant=tenant, job=job)  # a quick run may have ended already
    sync_state_for(tenant=tenant)
    if job is None or not job.is_finished:
        # The run is followed on its own until it ends, so that it does not show "running"
        # until the tenant's next sync, minutes after it finished.
        # Best effort: without it, the scheduled sync brings the run up to date later.
        send_on_commit(
            run_follow_task, tenant.pk, started.job_id, 1, countdown=RUN_FOLLOW_FIRST_SECONDS
        )
    run = FlowRun.objects.filter(tenant=tenant, job_id=started.job_id).first()
    audit_record(
        action="flow.run",
        target=Target("flow", flow_id, tenant.external_id),
        after={"run": started.job_id},
    )
    return StartedRun(flow_id=flow_id, job_id=started.job_id, run=run)


# How soon to ask again to run a flow a settings job is switching on (most jobs end in seconds).
SWITCHING_ON_RETRY_SECONDS = 5


def _refuse_disabled(tenant: Tenant, flow: TenantFlow | None, flow_id: str) -> None:
    if flow is None or not flow.disabled:
        return
    name = flow.name or flow_id
    job = _switching_on_job(tenant, flow)
    if job is not None:
        # The host has just switched it on and asked to run it at once: "enable it" would
        # send them to do what they did. It passes by itself, as another job's conflict does.
        error = FlowDisabled(
            f"The flow {name!r} is being switched on: the tenant's settings turn it on, and "
            f"the job applying them ({job.id}) has not ended yet. Run it once that job has "
            "ended."
        )
        error.retry_after = SWITCHING_ON_RETRY_SECONDS
        raise error
    # A disabled flow does not run on its schedule, by the tenant's choice (its settings
    # switch it off); running it by hand would go behind that choice.
    raise FlowDisabled(
        f"The flow {name!r} is disabled; enable it (the tenant's settings) to run it."
    )


def _switching_on_job(tenant: Tenant, flow: TenantFlow) -> Job | None:
    """The tenant's unfinished job, when the tenant's settings switch this disabled flow on:
    the job that sets it on in integrator.io (the mirror follows once it has)."""
    if not flow.source_id:
        return None
    try:
        settings = tenant_effective_settings(tenant=tenant)
    except SettingsInvalid:
        return None
    switches = flow_switches(
        settings_schema=tenant.template_version.settings_schema, settings=settings
    )
    if switches.get(flow.source_id) is not True:
        return None
    return (
        Job.objects.filter(tenant=tenant, status__in=[JobStatus.QUEUED, JobStatus.RUNNING])
        .order_by("created_at")
        .first()
    )


def _flow_known(*, tenant: Tenant, flow_id: str) -> TenantFlow | None:
    return TenantFlow.objects.filter(
        tenant=tenant, flow_id=flow_id, removed_at__isnull=True
    ).first()


def run_errors_fetch(*, tenant: Tenant, job_id: str) -> list[FlowRunError]:
    """The errors integrator.io holds for one of the tenant's runs, read now (the way the
    account keeps them) and mirrored. Record data is never kept or shown."""
    run = _run_of(tenant=tenant, job_id=job_id)
    with (
        tenant_runs_client(tenant=tenant, interactive=True) as client,
        _remote_errors(tenant, job_id, verb="list", not_done="the run's errors were not read"),
    ):
        return run_errors_refresh(run=run, client=client)


# A run's errors are retried one step at a time: a retry has a job per step that had errors.
RETRY_JOBS_FOLLOWED = 10


def run_retries_running(*, tenant: Tenant, job_id: str, retry_job_ids: list[str]) -> bool:
    """Whether a retry of the run's errors (the retry jobs `run_errors_retry_now` answered) is
    still running in integrator.io: until it ends, the retried errors are resolved and the
    records that fail again are not yet open errors. Ids that are not retries of this run's
    flow are left out (they come back from a page's address). Raises the API's errors when
    integrator.io does not answer."""
    run = _run_of(tenant=tenant, job_id=job_id)
    wanted = list(dict.fromkeys(i for i in retry_job_ids if i and "\x00" not in i))
    if not wanted:
        return False
    with (
        tenant_runs_client(tenant=tenant, interactive=True) as client,
        _remote_errors(tenant, job_id, verb="read", not_done="the retry was not looked at"),
    ):
        for retry_job_id in wanted[:RETRY_JOBS_FOLLOWED]:
            try:
                job = client.get_job(retry_job_id)
            except remote.NotFoundError:
                continue
            ours = job.type in ("retry", "bulk_retry") and job.flow_id == run.flow_id
            if ours and not job.is_finished:
                return True
    return False


def run_errors_resolve_now(
    *,
    tenant: Tenant,
    job_id: str,
    error_ids: list[str] | None = None,
    refuse_none_open: bool = False,
) -> list[FlowRunError]:
    """Mark a run's open errors (all, or those named) resolved in integrator.io. Not once the
    tenant is being removed: its integration is going, and takes no more changes. With
    `refuse_none_open`, nothing open to resolve is an error (run_errors_resolve)."""
    tenant_changeable_check(tenant=tenant)
    run = _run_of(tenant=tenant, job_id=job_id)
    with (
        tenant_runs_client(tenant=tenant, interactive=True) as client,
        _remote_errors(tenant, job_id, verb="resolve", not_done="no error was resolved"),
    ):
        resolved = run_errors_resolve(
            run=run, client=client, error_ids=error_ids, refuse_none_open=refuse_none_open
        )
    _run_errors_audit("run_errors.resolve", tenant=tenant, job_id=job_id, error_ids=error_ids)
    return resolved


def run_errors_retry_now(
    *, tenant: Tenant, job_id: str, error_ids: list[str] | None = None
) -> RetriedRunErrors:
    """Retry a run's open errors (all, or those named) in integrator.io. Not once the tenant
    is being removed: a retry would run its flow again while its integration is going."""
    tenant_changeable_check(tenant=tenant)
    run = _run_of(tenant=tenant, job_id=job_id)
    # A retry whose answer was lost may have started: never send it blindly again.
    with (
        tenant_runs_client(tenant=tenant, interactive=True) as client,
        _remote_errors(tenant, job_id, verb="retry", not_done="look at the run's errors first"),
    ):
        retried = run_errors_retry(run=run, client=client, error_ids=error_ids)
    _run_errors_audit("run_errors.retry", tenant=tenant, job_id=job_id, error_ids=error_ids)
    return retried


def _run_errors_audit(
    action: str, *, tenant: Tenant, job_id: str, error_ids: list[str] | None
) -> None:
    # The change is integrator.io's (errors resolved or retried there); what is recorded is
    # who asked for it, on which run and which errors.
    audit_record(
        action=action,
        target=Target("flow_run", job_id, tenant.external_id),
        after={"error_ids": error_ids or "all open errors"},
    )


def _run_of(*, tenant: Tenant, job_id: str) -> FlowRun:
    # A NUL in a query is refused by PostgreSQL (a 500); no run id holds one.
    run = None if "\x00" in job_id else FlowRun.objects.filter(tenant=tenant, job_id=job_id).first()
    if run is None:
        raise RunNotFound(f"The tenant has no run {job_id!r}.")
    return run


@contextmanager
def _remote_errors(tenant: Tenant, job_id: str, *, verb: str, not_done: str) -> Iterator[None]:
    """integrator.io's errors as the API's (see the module docstring)."""
    try:
        yield
    except remote.NotFoundError:
        raise RunNotFound(f"integrator.io no longer has the run {job_id!r}.") from None
    except remote.ValidationError as error:
        raise RunRefused(
            f"integrator.io refused to {verb} the run's errors.", remote=_answered(error)
        ) from None
    except remote.IntegratorError as error:
        raise remote_error_for_caller(error, not_done=not_done, account=tenant.account) from None


# One check on request per tenant in this many seconds (the API and the customer's page share
# it): a person clicking again, or a host app polling, does not spend integrator.io's calls.
# Counted in Redis, so that every web process shares the turn.
CONNECTION_CHECK_MIN_SECONDS = 30


def _check_turn_key(tenant: Tenant) -> str:
    return redis_key(f"runs:connections-check-now:{tenant.pk}")


def _check_turn_take(tenant: Tenant) -> int:
    """0 when the turn is taken now; otherwise the seconds until it is free. Redis not
    answering lets the check go ahead (a few pings), rather than refuse it."""
    key = _check_turn_key(tenant)
    try:
        client = state_redis()
        if client.set(key, 1, nx=True, ex=CONNECTION_CHECK_MIN_SECONDS):
            return 0
        return max(1, int(client.ttl(key)))
    except redis.RedisError as exc:
        logger.warning("connection check turn not counted: %s", type(exc).__name__)
        return 0


def connections_check_turn_free(*, tenant: Tenant) -> None:
    """Give the tenant's turn back (a check that did not happen; tests: the 30 s passed)."""
    with suppress(redis.RedisError):
        state_redis().delete(_check_turn_key(tenant))


def tenant_connections_check_now(*, tenant: Tenant) -> list[TenantConnection]:
    """Ping the tenant's connections now, as the periodic check does (runs.checks: the same
    service, so its connections, health, status and webhooks move as they would there), for a
    caller who is waiting; return its connections as they now are.

    Once per tenant every CONNECTION_CHECK_MIN_SECONDS: sooner raises ConnectionCheckTooSoon
    with the seconds left. A check integrator.io could not answer does not use up the turn."""
    if tenant.status in GONE_STATUSES:
        raise TenantGone(f"The tenant is {tenant.status}; its connections are no longer checked.")
    if tenant.status not in LIVE_STATUSES:
        raise TenantNotLive(
            f"The tenant is {tenant.status}; its connections are checked once it is active or "
            "degraded."
        )
    if not TenantConnection.objects.filter(tenant=tenant).exclude(connection_id="").exists():
        raise NoConnectionsToCheck("The tenant has no connection in integrator.io to check.")
    wait = _check_turn_take(tenant)
    if wait:
        raise ConnectionCheckTooSoon(
            f"The tenant's connections were checked moments ago. Check again after {wait} seconds.",
            retry_after=wait,
        )
    try:
        with tenant_runs_client(
            tenant=tenant, interactive=True, purpose=CallPurpose.CHECK
        ) as client:
            try:
                result = tenant_connections_check(tenant=tenant, client=client)
            except remote.IntegratorError as error:
                raise remote_error_for_caller(
                    error, not_done="the connections were not checked", account=tenant.account
                ) from None
        if result.cause is not None:
            # A refused token is for an operator to replace, not for the host to retry; an
            # account down is named, as the others may answer (a pause, not a minute's guess).
            raise remote_error_for_caller(
                result.cause,
                not_done="the connections were not checked (or not all of them)",
                account=tenant.account,
            )
    except Exception:
        connections_check_turn_free(tenant=tenant)
        raise
    connections = list(TenantConnection.objects.filter(tenant=tenant).exclude(connection_id=""))
    # Who asked: a check on request may move the tenant (degraded, or active again) and
    # spends integrator.io's calls, as a run started by hand does (flow.run).
    audit_record(
        action="tenant.connections_check",
        target=Target("tenant", str(tenant.pk), tenant.external_id),
        after={"connections": {c.slot_key: c.status for c in connections}},
    )
    return connections
