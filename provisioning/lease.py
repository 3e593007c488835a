"""A worker's hold on a job: claiming it, fencing every write, keeping it alive, and the log
of the integrator.io calls made under it.

Claiming is a compare-and-swap on the job row: a queued job that is due, or a running one
whose lease ran out (its worker died). It bumps `lease_generation`. Every later write of the
run happens in `fenced(run)`, a transaction that first re-checks that generation on the job
row (and renews the lease), so a run that lost its job can change nothing. A duplicate
delivery of the job's message finds the lease held and goes away.

The lease is renewed at every fenced write and after every HTTP attempt (at most every
quarter lease), so it only runs out when the worker stops making progress.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent import futures
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from django.db import connections, transaction
from django.utils import timezone

from core.accounts import account_api_url, account_rate_limit, account_token
from core.integrator_client import build_integrator_client
from core.models import IntegratorAccount
from integrator.client import IntegratorClient
from integrator.redaction import fingerprint
from integrator.transport import CallRecord
from provisioning import job_metrics
from provisioning.errors import LeaseLost
from provisioning.job_progress import (
    api_calls_insert,
    job_claim_row,
    job_lease_renew,
    steps_progress_write,
    tenant_for_run,
)
from provisioning.models import ApiCall, Job, JobKind, JobStep, StepStatus
from provisioning.policy import POLICY
from provisioning.tenant_status import tenant_locked
from tenants.call_costs import call_counts_add, is_remote_call
from tenants.models import CallPurpose, Tenant

logger = logging.getLogger(__name__)

T = TypeVar("T")

# The threads of a worker process that carry the calls a step makes side by side
# (FencedClient.side_by_side), beyond the one each job's own thread makes. With a worker's
# 32 job threads this keeps the calls in flight within the client's connection pool
# (integrator.transport.DEFAULT_POOL_MAXSIZE, 64); a batch that finds them busy waits.
SIDE_BY_SIDE_THREADS = 32

# A message may arrive a little before the due time its countdown was computed from.
DUE_TOLERANCE = timedelta(seconds=1)


@dataclass
class JobRun:
    """One worker's hold on one job, for one delivery of its message."""

    job: Job
    generation: int
    renewed_at: float = field(default_factory=time.monotonic)
    step: JobStep | None = None
    # Steps whose progress (started, succeeded) is in memory only: written with the run's next
    # fenced write (see runner.py for when that is), by id.
    unwritten: dict[int, JobStep] = field(default_factory=dict)
    # When the run last wrote, and last saw that it holds the job (time.monotonic()).
    written_at: float = field(default_factory=time.monotonic)
    held_seen_at: float = field(default_factory=time.monotonic)
    # Set when a renewal found the job taken; the next call through FencedClient stops.
    lost: bool = False
    # Calls not yet written: they go in with the run's next fenced write.
    calls: list[ApiCall] = field(default_factory=list)
    # Calls sent to integrator.io by this run, added to the tenant's cost once it ends.
    remote_calls: int = 0
    # (overrides, effective settings) as this run last read them.
    settings: tuple[dict, dict] | None = None
    # A tenant status and integration id a step set, and the tenant's connections a step
    # deleted remotely, written with the step's success.
    tenant_status: str | None = None
    integration_id: str | None = None
    connections_deleted: list[str] = field(default_factory=list)


def job_claim(*, job_id: str, owner: str) -> JobRun | None:
    """Take the job if it is due and free; None if it is finished, not due, or held."""
    try:
        job_uuid = uuid.UUID(str(job_id))
    except ValueError:
        logger.warning("ignoring a job message with a malformed id")
        return None
    now = timezone.now()
    job = job_claim_row(
        job=job_uuid,
        owner=owner[:200],
        now=now,
        until=now + timedelta(seconds=POLICY.lease_seconds),
        due_by=now + DUE_TOLERANCE,
    )
    if job is None:
        return None
    tenant = tenant_for_run(tenant_pk=job.tenant_id)
    if tenant is None:
        return None  # deleted in between
    job.tenant = tenant
    return JobRun(job=job, generation=job.lease_generation)


@dataclass(frozen=True)
class Fence:
    now: datetime
    # The tenant row, locked, when asked for.
    tenant: Tenant | None


@contextlib.contextmanager
def fenced(run: JobRun, *, lock_tenant: bool = False) -> Iterator[Fence]:
    """A transaction holding the job row, entered only while this run still owns the job.

    Lock order, here and in the services: the tenant row first, then the job row, so that a
    worker and an API request never wait on each other in a cycle.
    """
    with transaction.atomic():
        tenant = tenant_locked(tenant_pk=run.job.tenant_id) if lock_tenant else None
        now = timezone.now()
        until = now + timedelta(seconds=POLICY.lease_seconds)
        if not job_lease_renew(job=run.job, generation=run.generation, until=until):
            run.lost = True
            raise LeaseLost(f"job {run.job.pk} is no longer held by generation {run.generation}")
        calls_flush(run, at=now)
        steps_write(run)
        yield Fence(now=now, tenant=tenant)
    # Only once committed: a write that rolled back is made again by the next one.
    run.unwritten.clear()
    run.renewed_at = run.written_at = run.held_seen_at = time.monotonic()


def lease_keep(run: JobRun) -> None:
    """Raise LeaseLost if the job was taken; renew the lease when a quarter of it has passed."""
    if run.lost:
        raise LeaseLost(f"job {run.job.pk} was taken from generation {run.generation}")
    if time.monotonic() - run.renewed_at >= POLICY.lease_seconds / 4:
        with fenced(run):
            pass


class FencedClient:
    """The integrator client, running `keep` before each call: by default lease_keep, which
    checks (and, when due, renews) the lease."""

    def __init__(
        self,
        client: IntegratorClient,
        run: JobRun,
        keep: Callable[[JobRun], None] | None = None,
    ) -> None:
        self._client = client
        self._run = run
        self._keep = keep or lease_keep

    def __getattr__(self, name: str):
        method = getattr(self._client, name)

        def call(*args, **kwargs):
            self._keep(self._run)
            return method(*args, **kwargs)

        return call

    def side_by_side(self, calls: Sequence[Callable[[IntegratorClient], T]]) -> list[T]:
        """Make these calls at the same time, each a function of the client (the first in
        this thread, the others on the process's side threads), and return their results in
        order; if any raised, raise the first one's error, once every call has ended.

        For calls that do not depend on each other (a PATCH per flow, the template check's
        reads): a job's calls are a chain, and a short run of many jobs lasts about as long
        as its jobs' chains. The lease is checked once before, and kept while this thread
        waits; the other threads touch no database: their calls are logged through this one."""
        self._keep(self._run)
        if len(calls) < 2:
            return [call(self._client) for call in calls]
        pool = _side_threads()
        pending = [
            pool.submit(contextvars.copy_context().run, _aside, call, self._client)
            for call in calls[1:]
        ]
        outcomes: list[tuple[T | None, BaseException | None]] = []
        try:
            outcomes.append((calls[0](self._client), None))
        except Exception as error:
            outcomes.append((None, error))
        while futures.wait(pending, timeout=POLICY.lease_seconds / 8).not_done:
            with contextlib.suppress(LeaseLost):  # raised at the next call
                lease_keep(self._run)
        for future in pending:
            result, error, records = future.result()
            for record in records:
                _record_call(record)
            outcomes.append((result, error))
        for _, error in outcomes:
            if error is not None:
                raise error
        return [result for result, _ in outcomes]


# --- the call log, and the one client per process ---------------------------------------------

current_run: ContextVar[JobRun | None] = ContextVar("provisioning_run", default=None)
# On a side thread (FencedClient.side_by_side): the calls it made, logged by the job's
# thread once they end.
_aside_calls: ContextVar[list[CallRecord] | None] = ContextVar("aside_calls", default=None)
_side_pool: futures.ThreadPoolExecutor | None = None
# One client per integrator.io account (and its URL, token and rate limit, so that a changed
# token or rate gets a new client).
_clients: dict[tuple, IntegratorClient] = {}
_client_lock = threading.Lock()


def _side_threads() -> futures.ThreadPoolExecutor:
    global _side_pool
    with _client_lock:
        if _side_pool is None:
            _side_pool = futures.ThreadPoolExecutor(
                max_workers=SIDE_BY_SIDE_THREADS, thread_name_prefix="side-by-side"
            )
        return _side_pool


def _aside(
    call: Callable[[IntegratorClient], T], client: IntegratorClient
) -> tuple[T | None, BaseException | None, list[CallRecord]]:
    """One call of a side_by_side batch, on a side thread (in a copy of the job thread's
    context): its outcome and the calls it made, for the job's thread to log."""
    records: list[CallRecord] = []
    _aside_calls.set(records)
    try:
        return call(client), None, records
    except Exception as error:
        return None, error, records
    finally:
        # A call may have reached the database (the breaker it opened or closed tells other
        # apps, which write). No task or request ends on this pool's threads to close that
        # connection: left open, each thread would hold one for the life of the worker.
        connections.close_all()


def _record_call(record: CallRecord) -> None:
    aside = _aside_calls.get()
    if aside is not None:
        aside.append(record)
        return
    run = current_run.get()
    if run is None or run.step is None:
        return
    run.remote_calls += int(is_remote_call(record))
    run.calls.append(
        ApiCall(
            job_id=run.job.pk,
            step_id=run.step.pk,
            method=record.method,
            path=record.path[:500],
            status=record.status,
            duration_ms=record.duration_ms,
            attempt=record.attempt,
            error_code=(record.error_code or "")[:64],
        )
    )
    # The client retries inside one method call, sleeping between attempts: renewing here
    # keeps a long call from outliving the lease.
    with contextlib.suppress(LeaseLost):  # FencedClient raises it before the next call
        lease_keep(run)


# What each kind of job's calls count as in the tenant's costs.
JOB_PURPOSES = {
    JobKind.PROVISION: CallPurpose.PROVISION,
    JobKind.UPDATE_SETTINGS: CallPurpose.SETTINGS,
    JobKind.REPAIR: CallPurpose.REPAIR,
    JobKind.DEPROVISION: CallPurpose.DEPROVISION,
    JobKind.UPGRADE: CallPurpose.UPGRADE,
}


def calls_count(run: JobRun) -> None:
    """Add the run's calls to the tenant's costs: one upsert per run, however it ended (a
    worker that dies takes its count along; the call log still has the calls)."""
    calls, run.remote_calls = run.remote_calls, 0
    call_counts_add({(run.job.tenant_id, JOB_PURPOSES[run.job.kind]): calls})


def steps_write(run: JobRun) -> None:
    """Write the progress of the steps the run holds in memory only (in the caller's
    transaction); a step that succeeded counts in the metrics once that commits."""
    steps_progress_write(steps=list(run.unwritten.values()))
    for step in run.unwritten.values():
        if step.status == StepStatus.SUCCEEDED:
            job_metrics.step_ended(step=step, outcome=StepStatus.SUCCEEDED, at=step.finished_at)


def calls_flush(run: JobRun, *, at: datetime) -> None:
    """Write the calls logged since the last flush (in the caller's transaction)."""
    api_calls_insert(run.calls, at=at)
    run.calls.clear()


def shared_client(account: IntegratorAccount) -> IntegratorClient:
    """One client (one HTTP connection pool) per account for all the threads of a worker
    process; each call is logged against the job its thread runs (a context variable)."""
    key = (
        account.pk,
        account_api_url(account),
        fingerprint(account_token(account)),
        account_rate_limit(account),
    )
    with _client_lock:
        client = _clients.get(key)
        if client is None:
            # The account's earlier client (another token or rate) is forgotten, not closed: a
            # thread may still be calling with it.
            for earlier in [each for each in _clients if each[0] == account.pk]:
                del _clients[earlier]
            client = _clients[key] = build_integrator_client(account=account, on_call=_record_call)
        return client
