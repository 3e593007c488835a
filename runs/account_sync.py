"""Account-wide run sync: the flow runs of every tenant on one integrator.io account, at a cost
in proportion to what changed, not to the number of tenants (docs/performance.md, run sync).

One cycle (`runs_sync_account`) for one account's cursor (`RunSyncCursor`, keyed by the
account's key; "default" is the account the settings name):

1. **New and changed runs.** `GET /jobs?type=flow&createdAt_gte=<watermark - OVERLAP>` lists
   the flow jobs of the whole account, newest first, up to a thousand a page. The next page is
   asked with `createdAt_lte` = the oldest `createdAt` read (that millisecond is read again and
   the jobs already read are dropped by id, so jobs sharing it are never skipped), until a
   page is short or reaches the window's start. A quiet account costs one call.
2. **To tenants.** Each job is mapped to its tenant by `_integrationId` (the tenant's cloned
   integration). Jobs of integrations that are no live tenant's (the template's, another
   tool's, a tenant deprovisioned meanwhile) are ignored; so are those of a tenant whose
   deprovision commits between the page's read and its write (the write locks the tenants'
   rows and leaves a deprovisioned one's runs closed, `runs.mirror.runs_upsert_many`). Runs
   are upserted on their job id:
   a job read twice (the overlap, a page boundary, two cycles) is one run, counted once, and
   an unchanged one is not written at all.
3. **Runs still open.** The window holds every job created since the watermark (minus the
   overlap), whatever its state, so a run created earlier that is still queued or running
   (a long run) is the only thing it can miss. Those are read again: one by one when there
   are at most OPEN_BY_ID, else with the account's `status=running` and `status=queued` jobs
   created since the oldest of them, then one by one for those in neither answer (they
   ended, or are canceling or retrying). A job integrator.io no longer has is closed as
   abandoned (its outcome unknown, its counts as last read). A long run thus costs a read
   per cycle while open, and is counted once, with its final counts, when it ends.
4. **The watermark** moves to the newest `createdAt` read, and only once every page was read
   and written: a cycle that fails or is rate limited half-way is read again next time (the
   upserts make that harmless).

Why integrator.io's own `createdAt`, and an overlap: our clock and the API's differ. The
watermark is a value the API wrote, compared only with values the API writes, so a skew
between the two clocks (minutes, hours) changes nothing; our clock only picks the first
cycle's start (BACKFILL ago, far wider than any skew). OVERLAP covers what a single clock
cannot promise: a job that becomes visible after another with a later `createdAt` (servers
whose clocks are a little apart, replication). A run starting during a cycle, between two
page reads, is newer than the first page's newest job: the next cycle's window holds it.

Tenants whose runs changed get their health evaluated and their SyncState's
`last_synced_at`; reads of one tenant's runs (by id) and its flow listings are added to that
tenant's call costs, the account-wide pages to the cursor's.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Max, QuerySet
from django.utils import timezone

from core.accounts import DEFAULT_ACCOUNT_KEY, AccountTokenUnavailable, integrator_account_default
from core.leases import lease_held, lease_take
from core.models import IntegratorAccount
from integrator import quirks
from integrator.client import IntegratorClient
from integrator.errors import IntegratorError, NotFoundError, RateLimitedError
from integrator.resources import Job
from runs.call_budget import CallCounter, build_runs_client
from runs.health import tenant_health_evaluate
from runs.mirror import jobs_changed, runs_upsert_many, tenant_flows_refresh
from runs.models import (
    UNFINISHED_RUN_STATUSES,
    FlowRun,
    RunStatus,
    RunSyncCursor,
    SyncState,
    TenantFlow,
)
from runs.scheduling import live_tenants
from tenants.call_costs import call_counts_add
from tenants.models import CallPurpose, Tenant

logger = logging.getLogger(__name__)

# Jobs that become visible up to this long after a job with a later createdAt are still read.
OVERLAP = timedelta(minutes=5)
# The first cycle of an account reads this far back (or from its newest mirrored run).
BACKFILL = timedelta(days=7)
# At most this many runs still open are read one by one; more are read by status first.
OPEN_BY_ID = 2
# Bounds of one cycle, against a remote that misbehaves (the loops must end whatever it says):
# pages of one listing (a million jobs; a first cycle's backfill keeps what it read), reads
# by id (the rest wait for the next cycle, oldest-read first), and flow listings for runs
# that name a flow not known yet.
MAX_PAGES = 1000
MAX_OPEN_READS = 200
MAX_FLOW_REFRESHES = 100
# A cycle that takes longer than this loses its cursor to the next one.
LEASE = timedelta(minutes=10)


class SyncBoundExceeded(IntegratorError):
    """A listing went on past MAX_PAGES: integrator.io is not answering as documented."""


@dataclass
class AccountSyncResult:
    cursor_key: str
    calls: int = 0
    # Pages of account-wide listings (the window's, and by status for runs still open).
    pages: int = 0
    jobs: int = 0
    # Calls spent on runs still open: pages by status and reads by id.
    open_reads: int = 0
    by_id: int = 0
    flow_refreshes: int = 0
    created: int = 0
    updated: int = 0
    ignored: int = 0
    tenants_changed: int = 0
    skipped: bool = False  # another worker holds this account's cycle
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


def sync_account_keys() -> list[str]:
    """The integrator.io accounts whose runs are synced: every one (a quiet cycle is one call,
    so an account without tenants yet costs next to nothing). A cursor is keyed by the
    account's key, which never changes once made."""
    integrator_account_default()  # made on first use, as everywhere
    return list(IntegratorAccount.objects.order_by("key").values_list("key", flat=True))


def account_live_tenants(cursor_key: str) -> QuerySet[Tenant]:
    """The live tenants whose integration is on the account of `cursor_key` (a tenant stays on
    its account for life, so a job listed there can only be one of these tenants')."""
    return live_tenants().filter(account__key=cursor_key)


def cursor_for(cursor_key: str, *, now: datetime | None = None) -> RunSyncCursor:
    cursor, _ = RunSyncCursor.objects.get_or_create(
        key=cursor_key, defaults={"next_sync_at": now or timezone.now()}
    )
    return cursor


def accounts_due_for_sync(*, now: datetime | None = None) -> list[str]:
    """Claim the accounts whose cycle is due (their next one is set an interval ahead in the
    same transaction, so overlapping ticks never send one twice)."""
    now = now or timezone.now()
    keys = sync_account_keys()
    for key in keys:
        cursor_for(key, now=now)
    with transaction.atomic():
        due = list(
            RunSyncCursor.objects.select_for_update(skip_locked=True)
            .filter(key__in=keys, next_sync_at__lte=now)
            .values_list("key", flat=True)
        )
        RunSyncCursor.objects.filter(key__in=due).update(
            next_sync_at=now + timedelta(seconds=settings.RUNS_SYNC_INTERVAL_SECONDS)
        )
    return due


def account_due_again(*, cursor_key: str, at: datetime) -> None:
    """A cycle that could not run (rate limited) is due again at `at`, not an interval later."""
    RunSyncCursor.objects.filter(key=cursor_key).update(next_sync_at=at)


class _Cycle:
    """One cycle's reading and writing (see the module docstring)."""

    def __init__(self, *, client: IntegratorClient, cursor_key: str, now: datetime) -> None:
        self.client = client
        self.cursor_key = cursor_key
        self.now = now
        self.result = AccountSyncResult(cursor_key=cursor_key)
        self.changed_tenants: dict[int, Tenant] = {}
        self.new_flows: dict[int, set[str]] = defaultdict(set)
        self.tenant_calls: dict[tuple[int, str], int] = defaultdict(int)

    # --- reading ---------------------------------------------------------------------------

    def listing(
        self,
        *,
        start: datetime,
        end: datetime | None = None,
        status: str | None = None,
        on_page: Callable[[list[Job]], None],
        best_effort: bool = False,
    ) -> datetime | None:
        """Every flow job of the account created in [start, end] (with `status`, if given),
        page by page into `on_page`; the newest createdAt read (None: no job). Past
        MAX_PAGES it stops: with `best_effort` (a first cycle's backfill) keeping what it
        read, else as a failure."""
        before = quirks.jobs_query_timestamp(end)
        seen: set[str] = set()
        newest: datetime | None = None
        for _ in range(MAX_PAGES):
            page = self.client.list_jobs(
                type="flow",
                status=status,
                created_at_gte=start,
                created_at_lte=before,
            )
            self.result.pages += 1
            fresh = [job for job in page if job.id not in seen]
            seen.update(job.id for job in fresh)
            on_page(fresh)
            stamps = [job.created_at for job in page if job.created_at is not None]
            if stamps:
                newest = max(filter(None, (newest, *stamps)))
            if quirks.jobs_page_is_last(len(page)) or not stamps or min(stamps) <= start:
                return newest
            # The oldest millisecond again, unless the page brought nothing new: then 1 ms
            # back, so that the loop always moves (integrator/quirks.py).
            oldest = min(stamps)
            if fresh:
                before = quirks.jobs_created_at_lte_again(oldest)
            else:
                before = quirks.next_jobs_created_at_lte(oldest)
        if best_effort:
            logger.warning(
                "account run sync (%s): the backfill stopped after %d pages; older runs are "
                "not mirrored",
                self.cursor_key,
                MAX_PAGES,
            )
            return newest
        raise SyncBoundExceeded(f"GET /jobs went on for more than {MAX_PAGES} pages")

    # --- writing ---------------------------------------------------------------------------

    def write(self, jobs: list[Job]) -> None:
        """Mirror the jobs that belong to a live tenant of the account."""
        self.result.jobs += len(jobs)
        integration_ids = {job.integration_id for job in jobs if job.integration_id}
        if not integration_ids:
            self.result.ignored += len(jobs)
            return
        tenants = {
            tenant.integration_id: tenant
            for tenant in account_live_tenants(self.cursor_key).filter(
                integration_id__in=integration_ids
            )
        }
        mine = [job for job in jobs if job.integration_id in tenants]
        self.result.ignored += len(jobs) - len(mine)
        # One read for the page, then one write for every tenant's changed runs.
        pairs = [(tenants[job.integration_id], job) for job in jobs_changed(mine)]
        tenant_of = {tenant.pk: tenant for tenant, _ in pairs}
        for tenant_id, upserted in runs_upsert_many(pairs=pairs, now=self.now).items():
            self.result.created += upserted.created
            self.result.updated += upserted.updated
            if upserted.changed:
                self.changed_tenants[tenant_id] = tenant_of[tenant_id]
            if upserted.new_flow_ids:
                self.new_flows[tenant_id] |= upserted.new_flow_ids

    # --- runs still open -------------------------------------------------------------------

    def open_runs(self, *, before: datetime) -> None:
        """Read again the runs still open that the window did not hold (created before it)."""
        stale = (
            FlowRun.objects.filter(
                status__in=UNFINISHED_RUN_STATUSES,
                created_at__lt=before,
                tenant__in=account_live_tenants(self.cursor_key),
            )
            .order_by("synced_at", "id")
            .values_list("job_id", "created_at", "tenant_id")
        )
        rows = list(stale[: MAX_OPEN_READS + OPEN_BY_ID + 1])
        if not rows:
            return
        to_read = [job_id for job_id, _, _ in rows]
        if len(rows) > OPEN_BY_ID:
            oldest = min(created for _, created, _ in rows)
            wanted = set(to_read)
            found: set[str] = set()

            def keep_open(jobs: list[Job]) -> None:
                ours = [job for job in jobs if job.id in wanted]
                found.update(job.id for job in ours)
                self.write(ours)

            for status in (RunStatus.RUNNING, RunStatus.QUEUED):
                pages_before = self.result.pages
                self.listing(start=oldest, end=before, status=status, on_page=keep_open)
                self.result.open_reads += self.result.pages - pages_before
            to_read = [job_id for job_id in to_read if job_id not in found]
        tenant_of = {job_id: tenant_id for job_id, _, tenant_id in rows}
        # Those found by status, and those read by id below.
        read = {job_id for job_id, _, _ in rows} - set(to_read) | set(to_read[:MAX_OPEN_READS])
        for job_id in to_read[:MAX_OPEN_READS]:
            self.result.open_reads += 1
            self.result.by_id += 1
            self.tenant_calls[(tenant_of[job_id], CallPurpose.SYNC)] += 1
            try:
                job = self.client.get_job(job_id)
            except NotFoundError:
                # integrator.io keeps jobs for 30 days: this one is gone, and how it ended
                # will never be known.
                FlowRun.objects.filter(job_id=job_id).update(
                    status=RunStatus.ABANDONED, synced_at=self.now
                )
                continue
            self.write([job])
        # Read this cycle, whether they changed or not: behind the runs not read yet, so that
        # the next cycle reads those (a run found unchanged is not written, and would
        # otherwise stay first in line for ever, the runs behind it never read).
        FlowRun.objects.filter(job_id__in=read, status__in=UNFINISHED_RUN_STATUSES).update(
            synced_at=self.now
        )

    # --- after the reading -----------------------------------------------------------------

    def refresh_flows(self) -> None:
        """List the flows of tenants whose runs name a flow not known yet (a one-off each:
        provisioning records a tenant's flows as it makes them; the rest wait for the next
        cycle or the tenant's connection check)."""
        for tenant_id, flow_ids in self.new_flows.items():
            tenant = self.changed_tenants[tenant_id]
            if self.result.flow_refreshes >= MAX_FLOW_REFRESHES:
                return
            if TenantFlow.objects.filter(tenant=tenant, flow_id__in=flow_ids).count() >= len(
                flow_ids
            ):
                continue
            self.result.flow_refreshes += 1
            self.tenant_calls[(tenant_id, CallPurpose.SYNC)] += 1
            tenant_flows_refresh(tenant=tenant, client=self.client, now=self.now)

    def settle_tenants(self) -> None:
        """The tenants whose runs changed: synced now, and their health judged again."""
        self.result.tenants_changed = len(self.changed_tenants)
        if not self.changed_tenants:
            return
        SyncState.objects.bulk_create(
            [
                SyncState(
                    tenant_id=tenant_id,
                    next_sync_at=self.now,
                    next_check_at=self.now,
                    last_synced_at=self.now,
                )
                for tenant_id in self.changed_tenants
            ],
            update_conflicts=True,
            unique_fields=["tenant"],
            update_fields=["last_synced_at"],
        )
        for tenant in self.changed_tenants.values():
            tenant_health_evaluate(tenant=tenant, now=self.now)


def _first_start(*, cursor_key: str, now: datetime) -> datetime:
    """Where an account's first cycle starts: its newest mirrored run (minus the overlap and
    an interval of lag, for a mirror the per-tenant sync filled), never more than BACKFILL."""
    newest = FlowRun.objects.filter(tenant__in=account_live_tenants(cursor_key)).aggregate(
        newest=Max("created_at")
    )["newest"]
    floor = now - BACKFILL
    if newest is None:
        return floor
    lag = timedelta(seconds=settings.RUNS_SYNC_INTERVAL_SECONDS)
    return max(floor, newest - OVERLAP - lag)


def runs_sync_account(
    client: IntegratorClient,
    cursor_key: str = DEFAULT_ACCOUNT_KEY,
    *,
    counter: CallCounter | None = None,
) -> AccountSyncResult:
    """One cycle of the account's run sync (see the module docstring). Never raises
    IntegratorError except RateLimitedError (the caller makes the account due again)."""
    now = timezone.now()
    cursor_for(cursor_key, now=now)
    rows = RunSyncCursor.objects.filter(key=cursor_key)
    generation = lease_take(rows, now=now, until=now + LEASE, last_attempt_at=now)
    if generation is None:
        return AccountSyncResult(cursor_key=cursor_key, skipped=True)
    # Read under the lease: the watermark the previous cycle left, never an older one.
    cursor = rows.get()
    calls_before = counter.calls if counter is not None else 0
    cycle = _Cycle(client=client, cursor_key=cursor_key, now=now)
    result = cycle.result
    held = lease_held(rows, generation=generation)
    try:
        first = cursor.watermark is None
        if first:
            start = _first_start(cursor_key=cursor_key, now=now)
        else:
            start = cursor.watermark - OVERLAP
        # A first cycle's backfill is best effort (a week of a busy account can be more than
        # a cycle should read); from its watermark on, nothing is skipped.
        newest = cycle.listing(start=start, on_page=cycle.write, best_effort=first)
        cycle.open_runs(before=start)
        cycle.refresh_flows()
        cycle.settle_tenants()
    except RateLimitedError:
        held.update(lease_expires_at=None)
        raise
    except IntegratorError as error:
        result.calls = _calls(counter, calls_before, result)
        result.error = f"integrator.io: {error}"[:2000]
        held.update(
            lease_expires_at=None,
            last_error=result.error,
            consecutive_failures=F("consecutive_failures") + 1,
            last_calls=result.calls,
        )
        logger.warning("account run sync (%s) failed: %s", cursor_key, result.error)
        return result
    except BaseException:
        held.update(lease_expires_at=None)
        raise
    finally:
        call_counts_add(cycle.tenant_calls)
    result.calls = _calls(counter, calls_before, result)
    watermark = max(filter(None, (cursor.watermark, newest)), default=None)
    if watermark is None:
        # Nothing at all since the start: keep the start, never our clock's "now".
        watermark = start
    held.update(
        lease_expires_at=None,
        watermark=watermark,
        last_synced_at=now,
        last_error="",
        consecutive_failures=0,
        last_calls=result.calls,
        last_pages=result.pages,
        last_jobs=result.jobs,
        last_open_reads=result.open_reads,
    )
    return result


def _calls(counter: CallCounter | None, before: int, result: AccountSyncResult) -> int:
    if counter is not None:
        return counter.calls - before
    return result.pages + result.by_id + result.flow_refreshes


def account_sync_now(*, cursor_key: str = DEFAULT_ACCOUNT_KEY) -> AccountSyncResult:
    """A cycle of the account's run sync with the runs' client (the task's body). Rate
    limited half-way: the account is due again once the wait is over, never dropped."""
    counter = CallCounter()
    account = IntegratorAccount.objects.filter(key=cursor_key).first()
    if account is None:
        return AccountSyncResult(cursor_key=cursor_key, error="no such integrator.io account")
    try:
        client = build_runs_client(account=account, counter=counter)
    except AccountTokenUnavailable as error:
        # No token, or none that a configured key opens: a failed cycle like any other (on
        # the cursor, counted, logged in a line), for an operator to fix; the next is due at
        # its interval.
        cursor_for(cursor_key)
        RunSyncCursor.objects.filter(key=cursor_key).update(
            last_attempt_at=timezone.now(),
            last_error=error.message[:2000],
            consecutive_failures=F("consecutive_failures") + 1,
            last_calls=0,
        )
        logger.warning("account run sync (%s) failed: %s", cursor_key, error.message)
        return AccountSyncResult(cursor_key=cursor_key, error=error.message)
    with client:
        try:
            return runs_sync_account(client, cursor_key, counter=counter)
        except RateLimitedError as error:
            wait = timedelta(seconds=error.retry_after or 1.0)
            account_due_again(cursor_key=cursor_key, at=timezone.now() + wait)
            logger.info("account run sync (%s) rate limited; due again in %s", cursor_key, wait)
            return AccountSyncResult(
                cursor_key=cursor_key, calls=counter.calls, error="rate limited"
            )
