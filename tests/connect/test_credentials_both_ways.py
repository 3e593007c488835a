"""The API and the credential form hand credentials over through one service, with one
behaviour: once the credentials are saved, failing to queue provisioning neither loses them
nor turns the answer into an error."""

import pytest

from provisioning.errors import JobConflict
from provisioning.models import Job
from provisioning.services import readiness
from tenants.models import ConnectionStatus, TenantConnection, TenantStatus


def shop_values(sandbox):
    return {"store_url": sandbox.demo_url("shop"), "api_key": sandbox.demo_keys["shop"]}


def erp_values(sandbox):
    return {"api_key": sandbox.demo_keys["erp"], "subsidiary": "main"}


@pytest.fixture
def queuing_fails(monkeypatch):
    """Provisioning cannot be queued once the last slot is in (as when another request won
    the race for the tenant's one unfinished job)."""

    def refuse(*, tenant, requested_by):
        raise JobConflict("The tenant already has a repair job (running).")

    monkeypatch.setattr(readiness, "provisioning_request_when_ready", refuse)


def test_the_api_keeps_the_credentials_and_says_why_no_job_started(
    integrator, acme, api, pages, issue_link, queuing_fails
):
    pages.submit(issue_link(acme).path, "shop", **shop_values(integrator))

    response = api.put(
        "/api/v1/tenants/acme/connections/erp", {"fields": erp_values(integrator)}, format="json"
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "ok" and body["ready"] is True
    assert body["job"] is None
    assert body["job_not_started"] == {
        "code": "job_in_progress",
        "message": "The tenant already has a repair job (running).",
    }
    erp = TenantConnection.objects.get(tenant=acme, slot_key="erp")
    assert erp.status == ConnectionStatus.OK and erp.connection_id == body["connection_id"]


def test_the_form_keeps_the_credentials_and_leads_to_the_status_page(
    integrator, acme, pages, issue_link, queuing_fails
):
    path = issue_link(acme).path
    pages.submit(path, "shop", **shop_values(integrator))

    response = pages.submit(path, "erp", **erp_values(integrator))

    assert response.status_code == 303
    assert response["Location"] == path + "status/#main"
    assert TenantConnection.objects.get(tenant=acme, slot_key="erp").status == ConnectionStatus.OK
    assert not Job.objects.filter(tenant=acme).exists()
    acme.refresh_from_db()
    assert acme.status == TenantStatus.AWAITING_CREDENTIALS


def test_both_queue_the_job_when_nothing_stands_in_the_way(
    integrator, acme, api, pages, issue_link
):
    pages.submit(issue_link(acme).path, "shop", **shop_values(integrator))

    body = api.put(
        "/api/v1/tenants/acme/connections/erp", {"fields": erp_values(integrator)}, format="json"
    ).json()

    [job] = Job.objects.filter(tenant=acme)
    assert body["job"]["id"] == str(job.pk)
    assert body["job_not_started"] is None
