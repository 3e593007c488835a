"""A run started on demand is followed until it ends: its outcome shows within seconds, not
at the tenant's next scheduled sync."""

import pytest
from rest_framework.test import APIClient
from rest_framework_api_key.models import APIKey

from runs.models import FlowRun, RunStatus, SyncState
from tests.runs.conftest import wait_for


@pytest.fixture
def api(transactional_db) -> APIClient:
    _, key = APIKey.objects.create_key(name="host app")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


def test_a_run_started_now_shows_its_end_without_a_sync(
    api, account, make_tenant, live_worker, live_settings
):
    account.control.configure(job_queue_seconds=0.5, job_run_seconds=1.5)
    acme = make_tenant("acme")
    flow_id = acme.flow_ids[0]

    response = api.post(f"/api/v1/tenants/acme/flows/{flow_id}/run")

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
