"""The account-wide run sync against the sandbox over HTTP: a cost in proportion to what
changed, and no run ever missed or counted twice (pages, runs started mid-cycle, long runs,
clock skew, integrations of no tenant, tenants deprovisioned on the way)."""

from datetime import timedelta

import pytest
from django.utils.timezone import now

from runs import account_sync
from runs.account_sync import runs_sync_account
from runs.actions import flow_run_start
from runs.models import FlowRun, RunStatus, RunSyncCursor, SyncState, TenantFlow
from runs.sync import tenant_runs_sync
from runs.tasks import runs_sync_tick
from tenants.models import Tenant, TenantStatus
from tenants.services.tenants import tenant_transition
from tests.fixtures.factories import current_version
from tests.fixtures.live_tenants import finish, run_flow, wait_for
from tests.fixtures.world import integrator_calm
from webhooks.models import Event, EventType

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def fleet(account, make_tenant):
    """fleet(n) -> [(tenant, flow_id)]: active tenants on integrations made in bulk (one
    flow each, no steps: a run is one flow job), their flows known."""
    template = make_tenant("anchor").tenant.template  # the demo template, and one tenant

    def make(count: int, *, prefix: str = "t"):
        made = account.control.bulk_integrations(count, name_prefix=prefix)
        tenants = Tenant.objects.bulk_create(
            Tenant(
                external_id=f"{prefix}-{number}",
                name=f"{prefix} {number}",
                template=template,
                template_version=current_version(template),
                status=TenantStatus.ACTIVE,
                integration_id=ids["_integrationId"],
            )
            for number, ids in enumerate(made)
        )
        # Their flows as provisioning records them (runs.receivers): known to the mirror.
        TenantFlow.objects.bulk_create(
            TenantFlow(tenant=tenant, flow_id=ids["_flowId"], name="Orders", refreshed_at=now())
            for tenant, ids in zip(tenants, made, strict=True)
        )
        return [(tenant, ids["_flowId"]) for tenant, ids in zip(tenants, made, strict=True)]

    return make


@pytest.fixture
def cycle(runs_client):
    """cycle() -> AccountSyncResult: one cycle of the default account, calls counted."""

    def run(client=None):
        result = runs_sync_account(client or runs_client, "default", counter=runs_client.counter)
        assert result.ok, result.error
        return result

    return run


@pytest.fixture
def roomy(account):
    """No rate limit in the way of a test that makes thousands of jobs."""
    account.control.configure(rate_limit_burst=100000, rate_limit_per_second=100000)


def _mirrored(job_ids) -> dict[str, FlowRun]:
    runs = {run.job_id: run for run in FlowRun.objects.filter(job_id__in=list(job_ids))}
    return runs


def _sandbox_flow_jobs(account) -> list[dict]:
    return (
        account.api()
        .get(
            f"{account.api_url}/jobs",
            params={"type": "flow", "createdAt_gte": "2000-01-01T00:00:00.000Z"},
            timeout=10,
        )
        .json()
    )


class HookedClient:
    """The runs' client, with `between_pages(n)` called after each page of GET /jobs that
    the cycle reads (n = pages so far): what happens on integrator.io while a cycle runs."""

    def __init__(self, client, between_pages):
        self._client = client
        self._between_pages = between_pages
        self.pages = 0

    def list_jobs(self, **filters):
        page = self._client.list_jobs(**filters)
        self.pages += 1
        self._between_pages(self.pages)
        return page

    def __getattr__(self, name):
        return getattr(self._client, name)


def test_a_quiet_cycle_costs_one_call_whatever_the_number_of_tenants(account, fleet, cycle):
    tenants = fleet(200)
    busy = [flow for _, flow in tenants[:5]]
    job_ids = account.control.bulk_runs(busy)

    first = cycle()
    quiet = cycle()

    assert first.created == 5
    assert set(_mirrored(job_ids)) == set(job_ids)
    assert quiet.calls == 1
    assert (quiet.created, quiet.updated) == (0, 0)
    cursor = RunSyncCursor.objects.get(key="default")
    assert cursor.last_calls == 1 and cursor.last_error == ""
    assert cursor.lease_expires_at is None


def test_runs_go_to_their_tenant_and_jobs_of_no_tenant_are_ignored(
    account, make_tenant, fleet, cycle
):
    acme = make_tenant("acme")
    orders = acme.flow_ids[0]
    completed = run_flow(account, orders, [{"status": "completed", "numRecords": 7}])
    partial = run_flow(
        account, orders, [{"status": "completed", "numRecords": 10, "numError": 3, "numIgnore": 1}]
    )
    # Integrations that are no tenant's: the template's own and a stranger's.
    template_run = run_flow(account, account.control.seed()["flowIds"][0])
    (stranger,) = account.control.bulk_integrations(1, name_prefix="Stranger")
    stranger_run = account.control.bulk_runs([stranger["_flowId"]])[0]
    # A tenant not live (still waiting for credentials) is no tenant of the sync either.
    ((waiting, waiting_flow),) = fleet(1, prefix="waiting")
    Tenant.objects.filter(pk=waiting.pk).update(status=TenantStatus.AWAITING_CREDENTIALS)
    waiting_run = account.control.bulk_runs([waiting_flow])[0]

    result = cycle()

    runs = _mirrored([completed, partial, template_run, stranger_run, waiting_run])
    assert set(runs) == {completed, partial}
    assert {run.tenant_id for run in runs.values()} == {acme.pk}
    assert (runs[completed].num_export, runs[completed].num_error) == (7, 0)
    assert (runs[partial].num_error, runs[partial].num_ignore) == (3, 1)
    assert runs[partial].status == RunStatus.COMPLETED
    assert result.ignored == 3
    # The tenant's flows were listed once, for their names.
    assert set(acme.tenant.flows.values_list("flow_id", flat=True)) == set(acme.flow_ids)
    assert SyncState.objects.get(tenant=acme.tenant).last_synced_at is not None


def test_it_pages_past_a_thousand_jobs_and_never_mirrors_one_twice(account, fleet, cycle, roomy):
    tenants = fleet(3)
    flows = [flow for _, flow in tenants]
    job_ids = account.control.bulk_runs(flows * 700)  # 2,100 flow jobs: three pages

    first = cycle()
    again = cycle()  # the overlap reads them all again

    assert first.pages == 3
    assert first.created == 2100
    assert FlowRun.objects.count() == 2100 == len(set(job_ids))
    assert set(FlowRun.objects.values_list("job_id", flat=True)) == set(job_ids)
    assert (again.created, again.updated) == (0, 0)
    per_tenant = {t.pk: FlowRun.objects.filter(tenant=t).count() for t, _ in tenants}
    assert set(per_tenant.values()) == {700}


def test_runs_started_between_two_page_reads_are_mirrored_once(
    account, fleet, cycle, runs_client, roomy
):
    tenants = fleet(2)
    (_, first_flow), (_, second_flow) = tenants
    before = account.control.bulk_runs([first_flow] * 1500)
    during: list[str] = []

    def start_runs(pages: int) -> None:
        if pages == 1:  # after the first page, before the second
            during.extend(account.control.bulk_runs([first_flow, second_flow]))

    cycle(HookedClient(runs_client, start_runs))
    after = account.control.bulk_runs([second_flow])
    cycle()
    cycle()

    every = before + during + after
    assert len(during) == 2
    assert FlowRun.objects.count() == len(set(every)) == 1503
    assert set(FlowRun.objects.values_list("job_id", flat=True)) == set(every)


def test_a_long_run_is_read_while_open_then_counted_once_with_its_final_counts(
    account, fleet, cycle, monkeypatch
):
    # No overlap: the long run falls out of the window as soon as a later run exists.
    monkeypatch.setattr(account_sync, "OVERLAP", timedelta(0))
    ((tenant, flow), (_, other)) = fleet(2)
    account.control.force_job_outcomes(flow, [{"status": "failed", "runSeconds": 3600}])
    (long_run,) = account.control.bulk_runs([flow])
    cycle()
    account.control.bulk_runs([other])
    cycle()  # the long run is older than the window from now on

    costs = []
    for _ in range(3):
        account.control.bulk_runs([other])
        result = cycle()
        costs.append((result.calls, result.by_id))
        assert FlowRun.objects.get(job_id=long_run).status == RunStatus.RUNNING
    finish(account, long_run)
    ended = cycle()
    after = cycle()

    assert costs == [(2, 1)] * 3  # the window's page, and the open run by id
    assert (ended.by_id, ended.updated) == (1, 1)
    assert after.calls == 1 and after.by_id == 0
    run = FlowRun.objects.get(job_id=long_run)
    assert run.status == RunStatus.FAILED
    assert run.num_error == 1
    assert run.ended_at is not None
    failed_events = Event.objects.filter(event_type=EventType.RUN_FAILED, tenant=tenant)
    assert [event.data["run_id"] for event in failed_events] == [long_run]


def test_many_long_runs_are_read_by_status_not_one_by_one(account, fleet, cycle, monkeypatch):
    monkeypatch.setattr(account_sync, "OVERLAP", timedelta(0))
    tenants = fleet(6)
    flows = [flow for _, flow in tenants]
    for flow in flows[:3]:
        account.control.force_job_outcomes(flow, [{"status": "completed", "runSeconds": 3600}])
    for flow in flows[3:5]:
        account.control.force_job_outcomes(flow, [{"status": "completed", "queueSeconds": 3600}])
    long_runs = account.control.bulk_runs(flows[:5])  # three running, two queued
    cycle()
    account.control.bulk_runs([flows[5]])

    open_cycle = cycle()
    finish(account, long_runs[0])
    one_ended = cycle()

    # The window's page, then the account's running and queued jobs: three calls for the
    # open runs older than the window; the one that ended is in neither answer, so it is
    # read by id.
    assert (open_cycle.calls, open_cycle.by_id) == (3, 0)
    assert (one_ended.calls, one_ended.by_id) == (4, 1)
    statuses = dict(FlowRun.objects.filter(job_id__in=long_runs).values_list("job_id", "status"))
    assert statuses[long_runs[0]] == RunStatus.COMPLETED
    assert [statuses[j] for j in long_runs[1:3]] == [RunStatus.RUNNING] * 2
    assert [statuses[j] for j in long_runs[3:]] == [RunStatus.QUEUED] * 2


@pytest.mark.parametrize("offset", [3600.0, -3600.0], ids=["api-ahead", "api-behind"])
def test_clock_skew_between_us_and_the_api_misses_nothing(account, fleet, cycle, offset):
    account.control.configure(clock_offset_seconds=offset)
    tenants = fleet(3)
    flows = [flow for _, flow in tenants]
    made = account.control.bulk_runs(flows)
    cycle()
    made += account.control.bulk_runs(flows[:1])
    cycle()
    made += account.control.bulk_runs(flows[1:])
    cycle()
    quiet = cycle()

    assert FlowRun.objects.count() == len(made) == 6
    assert set(FlowRun.objects.values_list("job_id", flat=True)) == set(made)
    assert quiet.calls == 1 and quiet.created == 0
    # The watermark is the API's own createdAt, wherever its clock is.
    newest = max(job["createdAt"] for job in _sandbox_flow_jobs(account))
    watermark = RunSyncCursor.objects.get(key="default").watermark
    assert watermark.isoformat(timespec="milliseconds").replace("+00:00", "Z") == newest


def _late_job(account, fleet, cycle) -> tuple[list[str], list[str]]:
    """A cycle, then a job stamped 30 s before the newest one it read (another server's
    clock) that becomes visible only now, then a cycle: (jobs before, the late job)."""
    ((_, flow),) = fleet(1)
    first = account.control.bulk_runs([flow])
    cycle()
    account.control.configure(clock_offset_seconds=-30)
    late = account.control.bulk_runs([flow])
    cycle()
    return first, late


def test_a_job_that_shows_up_behind_the_watermark_is_caught_by_the_overlap(account, fleet, cycle):
    first, late = _late_job(account, fleet, cycle)

    assert set(FlowRun.objects.values_list("job_id", flat=True)) == set(first + late)


def test_without_the_overlap_that_job_would_be_missed(account, fleet, cycle, monkeypatch):
    """The overlap test's control: the case it covers is real."""
    monkeypatch.setattr(account_sync, "OVERLAP", timedelta(0))
    first, late = _late_job(account, fleet, cycle)

    assert set(FlowRun.objects.values_list("job_id", flat=True)) == set(first)
    assert late


def test_a_tenant_deprovisioned_midway_is_left_alone_and_stops_the_cycle_of_nobody(
    account, fleet, cycle, runs_client, roomy
):
    (leaving, leaving_flow), (staying, staying_flow) = fleet(2)
    account.control.force_job_outcomes(leaving_flow, [{"status": "completed", "runSeconds": 3600}])
    open_run = account.control.bulk_runs([leaving_flow])[0]
    account.control.bulk_runs([staying_flow] * 1200)
    account.control.bulk_runs([leaving_flow])

    def deprovision(pages: int) -> None:
        if pages == 1:
            Tenant.objects.filter(pk=leaving.pk).update(status=TenantStatus.DEPROVISIONED)

    cycle(HookedClient(runs_client, deprovision))
    later = account.control.bulk_runs([leaving_flow, staying_flow])
    result = cycle()

    assert FlowRun.objects.filter(tenant=staying).count() == 1201
    assert not FlowRun.objects.filter(job_id__in=later[:1]).exists()
    assert result.ignored >= 1
    # Its open run is not read again: its integration is gone from the sync.
    assert result.by_id == 0
    run = FlowRun.objects.filter(job_id=open_run).first()
    assert run is None or run.status == RunStatus.RUNNING


def test_a_tenant_deprovisioned_between_reading_a_page_and_writing_it_gets_no_run(
    account, fleet, cycle, monkeypatch
):
    """The cycle reads which tenants are live for a page, then writes the page. A deprovision
    that commits in between (its open runs closed as abandoned) must not be undone by that
    write: no run reopened, no new run, no `run.failed` for a tenant that is gone."""
    (leaving, leaving_flow), (staying, staying_flow) = fleet(2)
    account.control.force_job_outcomes(leaving_flow, [{"status": "completed", "runSeconds": 3600}])
    (long_run,) = account.control.bulk_runs([leaving_flow])
    cycle()
    assert FlowRun.objects.get(job_id=long_run).status == RunStatus.RUNNING
    account.control.force_job_outcomes(leaving_flow, [{"status": "failed"}])
    (failed_run,) = account.control.bulk_runs([leaving_flow])
    (other_run,) = account.control.bulk_runs([staying_flow])
    finish(account, failed_run)

    real_jobs_changed = account_sync.jobs_changed

    def deprovisioned_meanwhile(jobs):
        # The page's live tenants are read; the deprovision commits before the write.
        tenant = Tenant.objects.get(pk=leaving.pk)
        if tenant.status != TenantStatus.DEPROVISIONED:
            tenant = tenant_transition(tenant=tenant, to=TenantStatus.DEPROVISIONING)
            tenant_transition(tenant=tenant, to=TenantStatus.DEPROVISIONED)
        return real_jobs_changed(jobs)

    monkeypatch.setattr(account_sync, "jobs_changed", deprovisioned_meanwhile)
    cycle()

    assert FlowRun.objects.get(job_id=long_run).status == RunStatus.ABANDONED
    assert not FlowRun.objects.filter(job_id=failed_run).exists()
    assert not Event.objects.filter(event_type=EventType.RUN_FAILED, tenant=leaving).exists()
    assert FlowRun.objects.get(job_id=other_run).tenant_id == staying.pk, "others still synced"


def test_a_failed_cycle_keeps_its_watermark_and_the_next_one_catches_up(
    account, fleet, cycle, runs_client
):
    ((_, flow),) = fleet(1)
    first = account.control.bulk_runs([flow])
    cycle()
    watermark = RunSyncCursor.objects.get(key="default").watermark
    second = account.control.bulk_runs([flow])
    account.control.inject_fault("error", path="/v1/jobs", method="GET", status=500)

    failed = runs_sync_account(runs_client, "default")

    cursor = RunSyncCursor.objects.get(key="default")
    assert not failed.ok and "integrator.io" in failed.error
    assert (cursor.watermark, cursor.consecutive_failures) == (watermark, 1)
    assert cursor.lease_expires_at is None
    account.control.clear_faults()
    integrator_calm()
    cycle()
    assert set(FlowRun.objects.values_list("job_id", flat=True)) == set(first + second)
    assert RunSyncCursor.objects.get(key="default").consecutive_failures == 0


def test_a_cycle_already_running_is_not_run_twice(account, fleet, cycle, runs_client):
    fleet(1)
    cycle()
    seen = []

    def second_cycle(pages: int) -> None:
        if pages == 1:
            seen.append(runs_sync_account(runs_client, "default"))

    cycle(HookedClient(runs_client, second_cycle))

    assert seen[0].skipped and seen[0].calls == 0


def test_the_beat_tick_syncs_the_account_and_health_and_webhooks_follow(
    account, make_tenant, live_worker
):
    acme = make_tenant("acme")
    orders = acme.flow_ids[0]
    for _ in range(3):
        run_flow(account, orders, ["failed"])

    assert runs_sync_tick.delay()
    assert wait_for(lambda: acme.refresh().status == TenantStatus.DEGRADED)
    assert "failed its last 3 runs" in acme.tenant.last_error
    failed = Event.objects.filter(event_type=EventType.RUN_FAILED, tenant=acme.tenant)
    assert failed.count() == 3

    run_flow(account, orders, ["completed"])
    RunSyncCursor.objects.filter(key="default").update(next_sync_at="2000-01-01T00:00:00Z")
    runs_sync_tick.delay()
    assert wait_for(lambda: acme.refresh().status == TenantStatus.ACTIVE)
    assert failed.count() == 3  # each failure told once, whatever was read again
    assert Event.objects.filter(event_type=EventType.TENANT_RECOVERED).count() == 1


def test_on_demand_sync_and_run_now_share_the_mirror_with_the_account_cycle(
    account, make_tenant, cycle, runs_client, live_worker
):
    acme = make_tenant("acme")
    scheduled = run_flow(account, acme.flow_ids[0])
    tenant_runs_sync(tenant=acme.tenant, client=runs_client, counter=runs_client.counter)
    started = flow_run_start(tenant=acme.tenant, flow_id=acme.flow_ids[0])

    result = cycle()

    assert FlowRun.objects.filter(tenant=acme.tenant).count() == 2
    assert set(FlowRun.objects.values_list("job_id", flat=True)) == {scheduled, started.job_id}
    assert result.created == 0  # both were mirrored already: read again, not added


def test_a_first_backfill_past_the_page_bound_keeps_what_it_read_later_ones_fail(
    account, fleet, cycle, runs_client, monkeypatch, roomy
):
    monkeypatch.setattr(account_sync, "MAX_PAGES", 1)
    ((_, flow),) = fleet(1)
    account.control.bulk_runs([flow] * 1200)

    first = cycle()  # best effort: the newest page, and the watermark moves on
    watermark = RunSyncCursor.objects.get(key="default").watermark
    account.control.bulk_runs([flow] * 1200)
    later = runs_sync_account(runs_client, "default")

    assert watermark is not None
    assert 1000 <= first.created == first.jobs < 1200
    # A later cycle never skips: it fails, and keeps its watermark to read it all again.
    assert not later.ok and "more than 1 pages" in later.error
    assert RunSyncCursor.objects.get(key="default").watermark == watermark


def test_more_long_runs_than_a_cycle_reads_are_each_read_in_turn_and_none_stays_open(
    account, fleet, cycle, monkeypatch
):
    """A cycle reads at most MAX_OPEN_READS (+ OPEN_BY_ID + 1) of the runs still open, oldest
    read first, the rest waiting for the next cycles: those it read and found unchanged (still
    running) go to the back of the queue, so a run beyond the first batch is read in its turn
    and its end is mirrored, not left running for ever."""
    monkeypatch.setattr(account_sync, "OVERLAP", timedelta(0))
    monkeypatch.setattr(account_sync, "OPEN_BY_ID", 1)
    monkeypatch.setattr(account_sync, "MAX_OPEN_READS", 1)
    tenants = fleet(7)
    flows = [flow for _, flow in tenants]
    for flow in flows[:6]:
        account.control.force_job_outcomes(flow, [{"status": "completed", "runSeconds": 3600}])
    long_runs = account.control.bulk_runs(flows[:6])
    cycle()
    account.control.bulk_runs([flows[6]])
    cycle()  # the long runs are older than the window from now on
    # The one read last of all: the batch of three reads the others first.
    last = FlowRun.objects.filter(job_id__in=long_runs).order_by("synced_at", "id").last()
    finish(account, last.job_id)

    for _ in range(4):
        cycle()

    assert FlowRun.objects.get(job_id=last.job_id).status == RunStatus.COMPLETED
    still = FlowRun.objects.filter(job_id__in=long_runs, status=RunStatus.RUNNING).count()
    assert still == 5
