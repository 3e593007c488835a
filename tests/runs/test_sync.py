"""Mirroring flow jobs from the sandbox: right tenant, right counts, incremental, no doubles."""

from datetime import timedelta

import pytest
from django.utils import timezone

from runs.models import FlowRun, RunStatus, RunSyncCursor, SyncState, TenantFlow
from runs.sync import tenant_runs_sync
from runs.tasks import runs_sync_tick
from tests.fixtures.live_tenants import finish, run_flow, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def _sync(tenant, client):
    return tenant_runs_sync(tenant=tenant.tenant, client=client, counter=client.counter)


def _sandbox_job(sandbox, job_id):
    return sandbox.api().get(f"{sandbox.api_url}/jobs/{job_id}", timeout=10).json()


def test_it_mirrors_forced_runs_on_the_right_tenant_with_their_counts(
    account, make_tenant, runs_client, live_worker
):
    acme, globex = make_tenant("acme"), make_tenant("globex")
    orders, customers = acme.flow_ids[0], acme.flow_ids[1]
    completed = run_flow(account, orders, [{"status": "completed", "numRecords": 7}])
    failed = run_flow(account, orders, ["failed"])
    partial = run_flow(
        account, orders, [{"status": "completed", "numRecords": 10, "numError": 3, "numIgnore": 1}]
    )
    canceled = run_flow(account, customers, [{"status": "completed", "queueSeconds": 600}])
    runs_client.cancel_job(canceled)
    finish(account, canceled)
    other = run_flow(account, globex.flow_ids[0])

    runs_sync_tick.delay()  # beat's tick: hands both tenants to a worker batch
    assert wait_for(
        lambda: FlowRun.objects.filter(status__in=["completed", "failed", "canceled"]).count() == 5
    )
    # The runs are written page by page; the cycle lists the tenants' flows after them, and
    # marks the cursor synced last: wait for the whole cycle.
    assert wait_for(lambda: RunSyncCursor.objects.filter(last_synced_at__isnull=False).exists())

    runs = {run.job_id: run for run in FlowRun.objects.all()}
    assert {job for job, run in runs.items() if run.tenant_id == acme.pk} == {
        completed,
        failed,
        partial,
        canceled,
    }
    assert runs[other].tenant_id == globex.pk
    assert runs[completed].status == RunStatus.COMPLETED
    assert (runs[completed].num_export, runs[completed].num_error) == (7, 0)
    assert runs[failed].status == RunStatus.FAILED
    assert runs[failed].num_error == 1
    assert runs[partial].status == RunStatus.COMPLETED
    assert (runs[partial].num_error, runs[partial].num_ignore, runs[partial].num_export) == (
        3,
        1,
        10,
    )
    assert runs[partial].num_success == _sandbox_job(account, partial)["numSuccess"] > 0
    assert runs[canceled].status == RunStatus.CANCELED
    assert runs[completed].flow_id == orders
    assert runs[completed].ended_at >= runs[completed].started_at
    assert runs[completed].duration_ms is not None
    # The flows of each tenant are cached with their names.
    assert set(
        TenantFlow.objects.filter(tenant=acme.tenant).values_list("flow_id", flat=True)
    ) == set(acme.flow_ids)


def test_it_pages_through_more_than_one_page_and_never_adds_a_run_twice(
    account, make_tenant, runs_client
):
    acme = make_tenant("acme")
    account.control.configure(rate_limit_burst=100000, rate_limit_per_second=100000)
    session = account.api()
    total = 1003  # integrator.io pages jobs by 1001
    for number in range(total):
        flow_id = acme.flow_ids[number % len(acme.flow_ids)]
        session.post(
            f"{account.api_url}/flows/{flow_id}/run", json={}, timeout=10
        ).raise_for_status()
    account.control.configure(rate_limit_burst=1000, rate_limit_per_second=300)

    assert SyncState.objects.filter(tenant=acme.tenant).count() == 0
    first = _sync(acme, runs_client)
    assert first.ok, first.error
    assert first.pages == 2  # 1001 jobs, then 2: a short page is the last
    assert first.calls == 3  # and the flows listed once
    assert first.created == total
    assert FlowRun.objects.filter(tenant=acme.tenant).count() == total

    again = _sync(acme, runs_client)
    assert again.ok
    assert (again.created, again.updated) == (0, 0)
    # The last runs.sync.OVERLAP is read again, here all 1003 jobs: two pages. A quiet tenant
    # costs one call (test_a_run_mirrored_on_its_own_first_does_not_hide_an_older_one).
    assert again.calls == 2
    assert FlowRun.objects.filter(tenant=acme.tenant).count() == total
    state = SyncState.objects.get(tenant=acme.tenant)
    assert (state.last_calls, state.expected_calls) == (2, 2)


def test_it_updates_a_long_running_run_when_it_finishes(account, make_tenant, runs_client):
    acme = make_tenant("acme")
    slow = run_flow(
        account, acme.flow_ids[0], [{"status": "completed", "runSeconds": 600, "numRecords": 4}]
    )
    quick = run_flow(account, acme.flow_ids[1])  # newer, and finished: the window must still
    # reach back to the slow one

    _sync(acme, runs_client)
    assert FlowRun.objects.get(job_id=slow).status == RunStatus.RUNNING
    assert FlowRun.objects.get(job_id=quick).status == RunStatus.COMPLETED

    finish(account, slow)
    result = _sync(acme, runs_client)

    run = FlowRun.objects.get(job_id=slow)
    assert (result.created, result.updated) == (0, 1)
    assert run.status == RunStatus.COMPLETED
    assert run.num_export == 4
    assert run.ended_at is not None
    assert FlowRun.objects.filter(tenant=acme.tenant).count() == 2


def test_a_failed_sync_keeps_the_last_data_and_says_when_it_last_worked(
    account, make_tenant, runs_client
):
    acme = make_tenant("acme")
    run_flow(account, acme.flow_ids[0])
    _sync(acme, runs_client)
    synced_at = SyncState.objects.get(tenant=acme.tenant).last_synced_at

    account.control.inject_fault("error", path="/v1/jobs", method="GET", status=500)
    run_flow(account, acme.flow_ids[0])
    result = _sync(acme, runs_client)

    state = SyncState.objects.get(tenant=acme.tenant)
    assert not result.ok
    assert "500" in state.last_error
    assert state.consecutive_failures == 1
    assert state.last_synced_at == synced_at
    assert FlowRun.objects.filter(tenant=acme.tenant).count() == 1

    account.control.clear_faults()
    assert _sync(acme, runs_client).created == 1
    state.refresh_from_db()
    assert (state.last_error, state.consecutive_failures) == ("", 0)
    assert state.last_synced_at > synced_at


def test_it_rereads_old_unfinished_runs_one_by_one(account, make_tenant, runs_client):
    acme = make_tenant("acme")
    stuck = run_flow(account, acme.flow_ids[0], [{"status": "completed", "runSeconds": 600}])
    run_flow(account, acme.flow_ids[1])
    _sync(acme, runs_client)
    long_ago = timezone.now() - timedelta(hours=7)
    FlowRun.objects.filter(job_id=stuck).update(created_at=long_ago)  # as if stuck for hours
    FlowRun.objects.create(
        tenant=acme.tenant,
        job_id="5eed0000000000000000dead",  # a job integrator.io no longer has
        flow_id=acme.flow_ids[0],
        status=RunStatus.RUNNING,
        created_at=long_ago,
        synced_at=long_ago,
    )
    finish(account, stuck)

    result = _sync(acme, runs_client)

    assert result.ok, result.error
    assert (result.pages, result.calls) == (1, 3)  # the window stays short: two re-reads
    assert FlowRun.objects.get(job_id=stuck).status == RunStatus.COMPLETED
    assert FlowRun.objects.get(job_id="5eed0000000000000000dead").status == RunStatus.ABANDONED


def test_a_run_mirrored_on_its_own_first_does_not_hide_an_older_one(
    account, make_tenant, runs_client
):
    # A scheduled run not mirrored yet, then a run started now and mirrored at once (the
    # API's run now, a run followed): the sync's window began at the newest mirrored run, so
    # `manage.py sync_runs --tenant` said "0 new" and the scheduled run stayed missing.
    from runs.follow import run_mirror

    acme = make_tenant("acme")
    _sync(acme, runs_client)
    scheduled = run_flow(account, acme.flow_ids[0])
    started_now = run_flow(account, acme.flow_ids[1])
    run_mirror(tenant=acme.tenant, job=runs_client.get_job(started_now))

    result = _sync(acme, runs_client)

    assert result.ok, result.error
    assert set(FlowRun.objects.filter(tenant=acme.tenant).values_list("job_id", flat=True)) == {
        scheduled,
        started_now,
    }
    again = _sync(acme, runs_client)
    assert (again.created, again.calls) == (0, 1)  # a quiet tenant still costs one call
