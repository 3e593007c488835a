"""A run started on demand is followed until it ends: its outcome shows within seconds, not
at the tenant's next scheduled sync."""

import pytest

from runs.models import FlowRun, RunStatus, SyncState
from tests.fixtures.live_tenants import wait_for


def test_a_run_started_now_shows_its_end_without_a_sync(
    live_api, account, make_tenant, live_worker, live_settings
):
    account.control.configure(job_queue_seconds=0.5, job_run_seconds=1.5)
    acme = make_tenant("acme")
    flow_id = acme.flow_ids[0]

    response = live_api.post(f"/api/v1/tenants/acme/flows/{flow_id}/run")

    assert response.status_code == 202, response.json()
    run_id = response.json()["run_id"]
    assert response.json()["run"]["status"] in ("queued", "running")
    ended = wait_for(
        lambda: FlowRun.objects.filter(job_id=run_id, status=RunStatus.COMPLETED).exists(),
        timeout=15,
    )
    assert ended, FlowRun.objects.get(job_id=run_id).status
    state = SyncState.objects.get(tenant=acme.tenant)
    assert state.last_synced_at is None, "the follow-up, not a sync, brought it up to date"


def test_runs_it_follows_judge_the_tenants_health(
    live_api, account, make_tenant, live_worker, live_settings
):
    """A flow failing its last RUNS_FAILED_RUNS_TO_DEGRADE runs, seen by the follow-up alone
    (the sync then finds those runs unchanged), degrades the tenant; a run that succeeds
    brings it back."""
    from runs.account_sync import account_sync_now
    from tenants.models import TenantStatus
    from webhooks.models import Event

    acme = make_tenant("acme")
    flow_id = acme.flow_ids[0]
    account.control.force_job_outcomes(flow_id, ["failed"] * 3)
    # Runs that last a moment: the follow-up, not the start, sees them end.
    account.control.configure(job_queue_seconds=0.2, job_run_seconds=0.5)

    def run_to_its_end(status: str) -> None:
        response = live_api.post(f"/api/v1/tenants/acme/flows/{flow_id}/run")
        assert response.status_code == 202, response.json()
        run_id = response.json()["run_id"]
        ended = wait_for(
            lambda: FlowRun.objects.filter(job_id=run_id, status=status).exists(), timeout=15
        )
        assert ended, FlowRun.objects.get(job_id=run_id).status

    for _ in range(3):
        run_to_its_end(RunStatus.FAILED)
    account_sync_now()  # a run-sync cycle: nothing new to it

    tenant = acme.refresh()
    assert tenant.status == TenantStatus.DEGRADED
    assert "failed its last 3 runs" in tenant.last_error
    response = live_api.get("/api/v1/tenants?status=degraded")
    assert [t["external_id"] for t in response.json()["results"]] == ["acme"]
    assert Event.objects.filter(tenant=tenant, event_type="tenant.degraded").count() == 1

    # A run that ends at once, already ended when the start reads it: judged there.
    account.control.configure(job_queue_seconds=0, job_run_seconds=0)
    run_to_its_end(RunStatus.COMPLETED)
    assert wait_for(lambda: acme.refresh().status == TenantStatus.ACTIVE, timeout=5)
    tenant = acme.refresh()
    assert tenant.last_error == ""
    assert Event.objects.filter(tenant=tenant, event_type="tenant.recovered").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_crash_between_mirroring_a_run_and_judging_it_leaves_the_run_to_be_read_again(
    account, make_tenant, runs_client, monkeypatch
):
    """The follow-up stores a run's end and judges the tenant's health in one transaction:
    stored alone, the run was one the retry (and the sync) found unchanged, so the failing
    flow never degraded the tenant. It also made the test above see a run's end before its
    judgement."""
    import runs.follow
    from runs.follow import run_mirror
    from tenants.models import TenantStatus
    from tests.fixtures.live_tenants import run_flow

    acme = make_tenant("acme")
    flow_id = acme.flow_ids[0]
    jobs = [run_flow(account, flow_id, ["failed"]) for _ in range(3)]
    for job_id in jobs[:2]:
        run_mirror(tenant=acme.tenant, job=runs_client.get_job(job_id))
    last = runs_client.get_job(jobs[2])
    assert last.is_finished

    def crash(**kwargs):
        raise RuntimeError("worker lost between the two writes")

    with monkeypatch.context() as patched:
        patched.setattr(runs.follow, "tenant_health_evaluate", crash)
        with pytest.raises(RuntimeError):
            run_mirror(tenant=acme.tenant, job=last)
    assert not FlowRun.objects.filter(job_id=jobs[2]).exists()
    assert acme.refresh().status == TenantStatus.ACTIVE

    run_mirror(tenant=acme.tenant, job=last)  # the task's retry

    assert FlowRun.objects.get(job_id=jobs[2]).status == RunStatus.FAILED
    assert acme.refresh().status == TenantStatus.DEGRADED
