"""A run started on demand is followed until it ends: its outcome shows within seconds, not
at the tenant's next scheduled sync."""

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
