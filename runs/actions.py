"""What ops and the host app can ask of a tenant's flows: run one now, read a run's errors.

Both call integrator.io while the request waits (one or two calls), through the runs'
client (interactive: no long waits), and turn its errors into the API's: rate limited is a
429 and unavailable a 503, each with Retry-After; a refused request a 422 with the remote's
answer in `remote`; a lost run answer a 502 that says to look before asking again (a second
POST would be a second run).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.integrator_client import remote_error_for_caller
from core.outbox import send_on_commit
from integrator import errors as remote
from runs.call_budget import build_runs_client
from runs.errors import (
    FlowDisabled,
    FlowNotFound,
    RunNotFound,
    RunOutcomeUnknown,
    RunRefused,
    TenantNotLive,
)
from runs.mirror import runs_upsert, tenant_flows_refresh
from runs.models import FlowRun, TenantFlow
from runs.scheduling import LIVE_STATUSES, sync_state_for
from runs.tasks import RUN_FOLLOW_FIRST_SECONDS, run_follow_task
from tenants.models import Tenant


@dataclass(frozen=True)
class RunError:
    """One error of a run, as integrator.io reports it. Record data is never kept or shown."""

    code: str | None
    message: str
    source: str | None
    created_at: datetime | None
    resolved: bool


def _require_live(tenant: Tenant) -> None:
    if tenant.status not in LIVE_STATUSES or not tenant.integration_id:
        raise TenantNotLive(
            f"The tenant is {tenant.status}; its flows run once it is active or degraded."
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
    _refuse_disabled(_flow_known(tenant=tenant, flow_id=flow_id), flow_id)
    _require_live(tenant)
    with build_runs_client(interactive=True) as client:
        try:
            flow = _flow_known(tenant=tenant, flow_id=flow_id)
            if flow is None:
                tenant_flows_refresh(tenant=tenant, client=client)
                flow = _flow_known(tenant=tenant, flow_id=flow_id)
                if flow is None:
                    raise FlowNotFound(f"The tenant has no flow {flow_id!r}.")
            _refuse_disabled(flow, flow_id)
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
            raise remote_error_for_caller(error, not_done="the flow was not started") from None
        try:
            job = client.get_job(started.job_id)
        except remote.IntegratorError:
            job = None  # the run did start: never report this as a failure to retry
    if job is not None:
        runs_upsert(tenant=tenant, jobs=[job])
    sync_state_for(tenant=tenant)
    if job is None or not job.is_finished:
        # The run is followed on its own until it ends, so that it does not show "running"
        # until the tenant's next sync, minutes after it finished.
        # Best effort: without it, the scheduled sync brings the run up to date later.
        send_on_commit(
            run_follow_task, tenant.pk, started.job_id, 1, countdown=RUN_FOLLOW_FIRST_SECONDS
        )
    run = FlowRun.objects.filter(tenant=tenant, job_id=started.job_id).first()
    return StartedRun(flow_id=flow_id, job_id=started.job_id, run=run)


def _refuse_disabled(flow: TenantFlow | None, flow_id: str) -> None:
    if flow is not None and flow.disabled:
        # A disabled flow does not run on its schedule, by the tenant's choice (its settings
        # switch it off); running it by hand would go behind that choice.
        raise FlowDisabled(
            f"The flow {flow.name or flow_id!r} is disabled; enable it (the tenant's settings) "
            "to run it."
        )


def _flow_known(*, tenant: Tenant, flow_id: str) -> TenantFlow | None:
    return TenantFlow.objects.filter(
        tenant=tenant, flow_id=flow_id, removed_at__isnull=True
    ).first()


def run_errors_fetch(*, tenant: Tenant, job_id: str) -> list[RunError]:
    """The errors integrator.io holds for one of the tenant's runs (read live, not stored)."""
    if not FlowRun.objects.filter(tenant=tenant, job_id=job_id).exists():
        raise RunNotFound(f"The tenant has no run {job_id!r}.")
    with build_runs_client(interactive=True) as client:
        try:
            errors = client.list_job_errors(job_id)
        except remote.NotFoundError:
            raise RunNotFound(f"integrator.io no longer has the run {job_id!r}.") from None
        except remote.ValidationError as error:
            raise RunRefused(
                "integrator.io refused to list the run's errors.", remote=_answered(error)
            ) from None
        except remote.IntegratorError as error:
            raise remote_error_for_caller(
                error, not_done="the run's errors were not read"
            ) from None
    return [
        RunError(
            code=error.code,
            message=error.message,
            source=error.source,
            created_at=error.created_at,
            resolved=error.resolved,
        )
        for error in errors
    ]
