"""Incremental sync of one tenant's flow runs from integrator.io.

1. The window starts OVERLAP before the newest run already mirrored, or earlier at the oldest
   run still unfinished (if younger than STALE_AFTER), so that one query returns both new
   jobs and the current state of running ones. With no runs yet it starts BACKFILL ago. The
   overlap: a run is also mirrored on its own (run now, a run followed), so the newest run
   mirrored may be newer than a scheduled one no sync has read yet.
2. `GET /jobs?_integrationId=..&type=flow&createdAt_gte=<start>` returns the newest jobs
   first. While a page is full and ends above the window's start, the next page is asked with
   `createdAt_lte` = the page's oldest `createdAt` minus 1 ms (docs/integrator-io.md). A
   quiet tenant's first page is short: one call per cycle.
3. Unfinished runs older than STALE_AFTER are re-read one by one (a few per cycle); a job
   integrator.io no longer has is closed as abandoned (its outcome unknown, its counts as
   last read).
4. Runs are upserted on their job id; flows are re-listed when the mirror has never listed
   them or a run names a flow not yet known; the health rules run when anything changed.

A failure leaves every mirrored run as it was and is recorded on the tenant's SyncState
(`last_error`, `consecutive_failures`), beside `last_synced_at`, the last success. Being
rate limited is not a failure: RateLimitedError goes up to the task, which retries.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, F, Max, Min, Q
from django.utils import timezone

from integrator import quirks
from integrator.client import IntegratorClient
from integrator.errors import IntegratorError, NotFoundError, RateLimitedError
from integrator.resources import Job
from runs.call_budget import CallCounter
from runs.health import tenant_health_evaluate
from runs.mirror import runs_upsert, tenant_flows_refresh
from runs.models import UNFINISHED_RUN_STATUSES, FlowRun, RunStatus, SyncState, TenantFlow
from runs.scheduling import sync_state_for
from tenants.models import Tenant

logger = logging.getLogger(__name__)

BACKFILL = timedelta(days=7)
# Jobs created up to this long before the newest mirrored run are read again (as the account
# sync's overlap): runs mirrored on their own come before the sync reads what preceded them.
OVERLAP = timedelta(minutes=5)
STALE_AFTER = timedelta(hours=6)
STALE_READS_PER_SYNC = 5
# A bound on one sync: 50 pages of up to 1001 jobs. Older jobs past it are not mirrored
# (far more than a week of any flow schedule; the loop must end whatever the remote says).
MAX_PAGES = 50


@dataclass
class SyncResult:
    calls: int
    pages: int = 0
    jobs: int = 0
    created: int = 0
    updated: int = 0
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


def _window(*, tenant: Tenant, now: datetime) -> tuple[datetime, list[str]]:
    """(start of the jobs window, ids of stale unfinished runs to read one by one)."""
    unfinished = Q(status__in=UNFINISHED_RUN_STATUSES)
    fresh = Q(created_at__gte=now - STALE_AFTER)
    runs = FlowRun.objects.filter(tenant=tenant)
    bounds = runs.aggregate(
        newest=Max("created_at"),
        oldest_fresh=Min("created_at", filter=unfinished & fresh),
        stale=Count("id", filter=unfinished & ~fresh),
    )
    start = now - BACKFILL
    if bounds["newest"] is not None:
        start = min(filter(None, (bounds["newest"] - OVERLAP, bounds["oldest_fresh"])))
    stale = []
    if bounds["stale"]:
        # Those at or after the window's start come with the page anyway.
        stale = list(
            runs.filter(unfinished & ~fresh, created_at__lt=start)
            .order_by("synced_at")
            .values_list("job_id", flat=True)[:STALE_READS_PER_SYNC]
        )
    return start, stale


def _jobs_since(
    *, client: IntegratorClient, integration_id: str, start: datetime, result: SyncResult
) -> list[Job]:
    jobs: list[Job] = []
    before: str | None = None
    for _ in range(MAX_PAGES):
        page = client.list_jobs(
            integration_id=integration_id,
            type="flow",
            created_at_gte=start,
            created_at_lte=before,
        )
        result.pages += 1
        jobs.extend(page)
        stamps = [job.created_at for job in page if job.created_at is not None]
        if not stamps or min(stamps) <= start or quirks.jobs_page_is_last(len(page)):
            break
        before = quirks.next_jobs_created_at_lte(min(stamps))
    return jobs


def _stale_jobs(*, client: IntegratorClient, tenant: Tenant, job_ids: list[str]) -> list[Job]:
    jobs = []
    for job_id in job_ids:
        try:
            jobs.append(client.get_job(job_id))
        except NotFoundError:
            FlowRun.objects.filter(tenant=tenant, job_id=job_id).update(
                status=RunStatus.ABANDONED, synced_at=timezone.now()
            )
    return jobs


def tenant_runs_sync(
    *, tenant: Tenant, client: IntegratorClient, counter: CallCounter
) -> SyncResult:
    """Sync the tenant's runs (see the module docstring); never raises IntegratorError
    except RateLimitedError."""
    now = timezone.now()
    calls_before = counter.calls
    result = SyncResult(calls=0)
    state = sync_state_for(tenant=tenant, now=now)
    first_sync = state.last_synced_at is None
    try:
        if state.flows_refreshed_at is None:
            tenant_flows_refresh(tenant=tenant, client=client, now=now)
        start, stale = _window(tenant=tenant, now=now)
        jobs = _jobs_since(
            client=client, integration_id=tenant.integration_id, start=start, result=result
        )
        jobs += _stale_jobs(client=client, tenant=tenant, job_ids=stale)
        upserted = runs_upsert(tenant=tenant, jobs=jobs, now=now)
        result.jobs, result.created, result.updated = len(jobs), upserted.created, upserted.updated
        if upserted.new_flow_ids:
            known = TenantFlow.objects.filter(tenant=tenant, flow_id__in=upserted.new_flow_ids)
            if known.count() < len(upserted.new_flow_ids):
                tenant_flows_refresh(tenant=tenant, client=client, now=now)
    except RateLimitedError:
        raise
    except IntegratorError as error:
        result.calls = counter.calls - calls_before
        result.error = f"integrator.io: {error}"[:2000]
        SyncState.objects.filter(pk=state.pk).update(
            last_attempt_at=now,
            last_error=result.error,
            consecutive_failures=F("consecutive_failures") + 1,
            last_calls=result.calls,
        )
        logger.warning("run sync failed: %s", result.error)
        return result
    result.calls = counter.calls - calls_before
    # The recurring cost: a backfill's extra empty page and flow listings are one-offs.
    recurring = 1 if first_sync else result.pages + len(stale)
    SyncState.objects.filter(pk=state.pk).update(
        last_attempt_at=now,
        last_synced_at=now,
        last_error="",
        consecutive_failures=0,
        last_calls=result.calls,
        expected_calls=max(1, recurring),
    )
    if upserted.changed or first_sync:
        tenant_health_evaluate(tenant=tenant, now=now)
    return result
