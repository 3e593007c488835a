"""Ops pages: runs across tenants, flows, and health on the tenant list and page."""

import pytest

from runs.models import FlowRun, RunStatus
from runs.sync import tenant_runs_sync
from tests.runs.conftest import run_flow

pytestmark = pytest.mark.django_db


@pytest.fixture
def synced(account, make_tenant, runs_client):
    acme = make_tenant("acme")
    run_flow(account, acme.flow_ids[0], ["failed", "partial"])
    run_flow(account, acme.flow_ids[0])
    tenant_runs_sync(tenant=acme.tenant, client=runs_client, counter=runs_client.counter)
    return acme


def test_the_tenant_list_has_a_health_column_and_filter(admin_client, synced, make_tenant):
    make_tenant("globex")  # never synced: unknown

    healthy = admin_client.get("/admin/tenants/tenant/", {"health": "healthy"})
    unknown = admin_client.get("/admin/tenants/tenant/", {"health": "unknown"})

    assert healthy.status_code == 200
    assert "Healthy (1 failed/24h)" in healthy.content.decode()
    assert "acme" in healthy.content.decode() and "globex" not in healthy.content.decode()
    assert "globex" in unknown.content.decode() and ">acme<" not in unknown.content.decode()


def test_the_tenant_page_shows_health_flows_and_latest_runs(admin_client, synced):
    page = admin_client.get(f"/admin/tenants/tenant/{synced.pk}/change/").content.decode()

    assert "Runs and health" in page
    assert "2 runs in the last 24 h, 1 failed" in page
    assert "Completed with errors" in page
    assert "Failed" in page
    assert page.count("/admin/runs/flowrun/") >= 2


def test_the_runs_list_filters_failures_and_a_failed_run_shows_its_errors(admin_client, synced):
    failed = FlowRun.objects.get(status=RunStatus.FAILED)

    listing = admin_client.get("/admin/runs/flowrun/", {"outcome": "failed_24h"}).content.decode()
    detail = admin_client.get(f"/admin/runs/flowrun/{failed.pk}/change/").content.decode()

    assert "1 flow run" in listing
    assert "export step failed" in detail


def test_run_now_from_the_flows_list(admin_client, synced, account):
    flow = synced.tenant.flows.get(flow_id=synced.flow_ids[1])

    response = admin_client.post(
        "/admin/runs/tenantflow/",
        {"action": "run_now", "_selected_action": [flow.pk]},
        follow=True,
    )

    assert "started" in response.content.decode()
    assert FlowRun.objects.filter(flow_id=flow.flow_id).count() == 1
