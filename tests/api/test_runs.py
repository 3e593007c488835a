"""/api/v1/tenants/{external_id}/runs/, /health, /flows/ and /flows/{flow}/run."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from runs.models import FlowRun, RunStatus, TenantFlow
from runs.sync import tenant_runs_sync
from tenants.models import TenantStatus
from tests.fixtures.live_tenants import run_flow

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme(account, make_tenant, runs_client):
    """acme with three synced runs of its first flow: completed, failed, completed."""
    tenant = make_tenant("acme")
    run_flow(account, tenant.flow_ids[0], ["completed", "failed", "completed"])
    run_flow(account, tenant.flow_ids[0])
    run_flow(account, tenant.flow_ids[0])
    run_flow(account, tenant.flow_ids[1])
    tenant_runs_sync(tenant=tenant.tenant, client=runs_client, counter=runs_client.counter)
    return tenant


def test_it_lists_a_tenants_runs_newest_first_with_filters(api, acme, make_tenant):
    make_tenant("globex")
    url = "/api/v1/tenants/acme/runs/"

    everything = api.get(url).json()
    failed = api.get(url, {"status": "failed"}).json()
    one_flow = api.get(url, {"flow": acme.flow_ids[1]}).json()
    future = api.get(url, {"since": (timezone.now() + timedelta(hours=1)).isoformat()}).json()
    page = api.get(url, {"limit": 2}).json()

    assert len(everything["results"]) == 4
    created = [run["created_at"] for run in everything["results"]]
    assert created == sorted(created, reverse=True)
    assert [run["status"] for run in failed["results"]] == ["failed"]
    assert failed["results"][0]["flow_name"]
    assert [run["flow_id"] for run in one_flow["results"]] == [acme.flow_ids[1]]
    assert future["results"] == []
    assert len(page["results"]) == 2
    assert len(api.get(page["next"]).json()["results"]) == 2


def test_it_refuses_bad_filters_in_the_api_error_shape(api, acme):
    response = api.get("/api/v1/tenants/acme/runs/", {"status": "exploded", "since": "soon"})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_fields"
    assert set(response.json()["error"]["fields"]) == {"status", "since"}
    # The values it takes, as the tenant list's `status` says them.
    [status_message] = response.json()["error"]["fields"]["status"]
    assert status_message.startswith("Not a run status; one of queued, running, ")
    jobs = api.get("/api/v1/tenants/acme/jobs", {"status": "exploded"}).json()["error"]
    assert jobs["fields"]["status"][0].startswith("Not a job status; one of queued, running,")
    assert api.get("/api/v1/tenants/nobody/runs/").status_code == 404
    assert APIClient().get("/api/v1/tenants/acme/runs/").status_code == 401


def test_a_since_whose_plus_sign_was_not_encoded_says_so(api, acme):
    # `since=…T10:00:00+01:00` typed into a URL arrives with a space for the `+`: "Datetime has
    # wrong format. Use one of these formats instead: …[+HH:MM…]" sent the developer to check a
    # format that was right; the audit log's `since` already said what happened.
    response = api.get("/api/v1/tenants/acme/runs?since=2026-01-01T10:00:00+01:00")

    assert response.status_code == 400
    [message] = response.json()["error"]["fields"]["since"]
    assert "%2B" in message and "`+`" in message


def test_it_reports_health(api, acme):
    body = api.get("/api/v1/tenants/acme/health").json()

    assert body["status"] == "healthy"
    assert body["tenant_status"] == "active"
    assert body["last_run"]["status"] == "completed"
    assert FlowRun.objects.filter(job_id=body["last_run"]["run_id"]).exists()
    assert body["last_24h"] == {"runs": 4, "failed_runs": 1, "errors": 1}
    assert body["failing_flows"] == []
    assert body["offline_connections"] == []
    assert body["sync"]["last_synced_at"] is not None
    assert body["sync"]["last_error"] is None


def test_it_lists_the_tenants_flows(api, acme):
    body = api.get("/api/v1/tenants/acme/flows/").json()

    assert sorted(flow["flow_id"] for flow in body["results"]) == acme.flow_ids
    assert all(flow["name"] for flow in body["results"])


def test_a_flow_run_now_counts_its_calls_in_the_tenants_costs(api, acme):
    response = api.post(f"/api/v1/tenants/acme/flows/{acme.flow_ids[2]}/run")

    assert response.status_code == 202
    costs = api.get("/api/v1/tenants/acme/costs?days=1").json()
    # the run's POST and the read of the job it started (a follow may add more later)
    assert costs["totals"].get("runs", 0) >= 2, costs["totals"]


def test_it_runs_a_flow_now(api, acme, account):
    flow_id = acme.flow_ids[2]

    response = api.post(f"/api/v1/tenants/acme/flows/{flow_id}/run", HTTP_IDEMPOTENCY_KEY="k1")
    repeated = api.post(f"/api/v1/tenants/acme/flows/{flow_id}/run", HTTP_IDEMPOTENCY_KEY="k1")

    assert response.status_code == 202
    body = response.json()
    assert body["flow_id"] == flow_id
    assert set(body) == {"flow_id", "run_id", "run"}
    assert body["run"]["run_id"] == body["run_id"]
    assert "job_id" not in body["run"]
    assert body["run"]["status"] in ("queued", "running", "completed")
    assert FlowRun.objects.get(job_id=body["run_id"]).tenant_id == acme.pk
    assert repeated.json()["run_id"] == body["run_id"]  # the same run, not a second one
    jobs = account.api().get(f"{account.api_url}/jobs", params={"_flowId": flow_id}).json()
    assert [job["_id"] for job in jobs] == [body["run_id"]]


def test_it_refuses_to_run_an_unknown_flow_or_for_a_tenant_that_is_not_live(api, acme, make_tenant):
    unknown = api.post("/api/v1/tenants/acme/flows/5eed00000000000000000fff/run")
    make_tenant("waiting", status=TenantStatus.PROVISIONING)
    not_live = api.post(f"/api/v1/tenants/waiting/flows/{acme.flow_ids[0]}/run")

    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "flow_not_found"
    assert not_live.status_code == 409
    assert not_live.json()["error"]["code"] == "tenant_not_live"


def test_it_shows_a_failed_runs_errors_without_record_data(api, acme):
    failed = FlowRun.objects.get(tenant=acme.tenant, status=RunStatus.FAILED)

    response = api.get(f"/api/v1/tenants/acme/runs/{failed.job_id}/errors")

    assert response.status_code == 200
    assert response.json()["run_id"] == failed.job_id
    (error,) = response.json()["errors"]
    assert {"code", "message", "source", "created_at", "resolved"} <= set(error)
    assert "export step failed" in error["message"]
    other = api.get("/api/v1/tenants/acme/runs/5eed00000000000000000bad/errors")
    assert other.status_code == 404
    assert other.json()["error"]["code"] == "run_not_found"


def test_it_says_when_integrator_io_failed_and_when_a_run_may_have_started(api, acme, account):
    failed = FlowRun.objects.get(tenant=acme.tenant, status=RunStatus.FAILED)
    account.control.inject_fault("error", path="/v1/flows/*/*/errors", method="GET", status=500)
    account.control.inject_fault("error", path="/v1/flows/*/run", method="POST", status=503)

    errors = api.get(f"/api/v1/tenants/acme/runs/{failed.job_id}/errors")
    run = api.post(f"/api/v1/tenants/acme/flows/{acme.flow_ids[0]}/run")

    assert errors.status_code == 503
    assert errors.json()["error"]["code"] == "integrator_unavailable"
    # A POST whose answer was a 5xx may have started the run: never "just retry".
    assert run.status_code == 502
    assert run.json()["error"]["code"] == "run_outcome_unknown"


@pytest.mark.parametrize("status", [TenantStatus.DEPROVISIONING, TenantStatus.DEPROVISIONED])
def test_it_refuses_to_run_a_flow_of_a_tenant_being_removed_as_every_change_to_it(
    api, acme, make_tenant, status
):
    """409 `tenant_deprovisioned`, as its settings, links, jobs and run errors answer. It said
    `tenant_not_live`, "its flows run once it is active or degraded", which it never is again."""
    make_tenant("leaving", status=status)

    response = api.post(f"/api/v1/tenants/leaving/flows/{acme.flow_ids[0]}/run")

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "tenant_deprovisioned"
    assert error["message"] == f"The tenant is {status}; its flows no longer run."


def test_the_document_names_each_refusal_of_a_flow_run(api):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    run = schema["paths"]["/api/v1/tenants/{external_id}/flows/{flow_id}/run"]["post"]

    for code in ("tenant_not_live", "flow_disabled", "tenant_deprovisioned"):
        assert f"`{code}`" in run["responses"]["409"]["description"], code


def test_it_answers_429_at_once_when_integrator_io_rate_limits_a_run(api, acme, account, settings):
    # A bucket of this test's own: the 429 drains it for whoever shares it.
    settings.REDIS_KEY_PREFIX = f"{settings.REDIS_KEY_PREFIX}{acme.tenant.uid}:"
    account.control.inject_fault(
        "rate_limit", path="/v1/flows/*/run", method="POST", retry_after=30
    )
    started = time.monotonic()

    run = api.post(f"/api/v1/tenants/acme/flows/{acme.flow_ids[0]}/run")

    assert time.monotonic() - started < 2.5
    assert run.status_code == 429
    assert run.json()["error"]["code"] == "rate_limited"
    assert "{" not in run.json()["error"]["message"]
    assert 30 <= int(run["Retry-After"]) <= 34


def test_a_rate_limited_run_leaves_no_answer_for_its_idempotency_key(api, acme, account, settings):
    """A 429 asks for the same request again after Retry-After, as a 5xx does: its retry with
    the same key runs. The 429 was stored and replayed for 24 hours (without Retry-After), so
    a host app that followed it could never run the flow with that key."""
    settings.REDIS_KEY_PREFIX = f"{settings.REDIS_KEY_PREFIX}{acme.tenant.uid}:"
    account.control.inject_fault(
        "rate_limit", path="/v1/flows/*/run", method="POST", retry_after=30, times=1
    )
    url = f"/api/v1/tenants/acme/flows/{acme.flow_ids[0]}/run"

    limited = api.post(url, HTTP_IDEMPOTENCY_KEY="run-1")
    # Past the Retry-After: the pause it set is in a namespace of its own.
    settings.REDIS_KEY_PREFIX = f"{settings.REDIS_KEY_PREFIX}later:"
    retried = api.post(url, HTTP_IDEMPOTENCY_KEY="run-1")

    assert limited.status_code == 429
    assert retried.status_code == 202, retried.content
    assert "Idempotent-Replayed" not in retried
    again = api.post(url, HTTP_IDEMPOTENCY_KEY="run-1")
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["run_id"] == retried.json()["run_id"]


def test_it_refuses_to_run_a_disabled_flow(api, acme):
    TenantFlow.objects.filter(tenant=acme.tenant, flow_id=acme.flow_ids[2]).update(disabled=True)
    response = api.post(f"/api/v1/tenants/acme/flows/{acme.flow_ids[2]}/run")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "flow_disabled"
    assert not FlowRun.objects.filter(flow_id=acme.flow_ids[2]).exists()


def test_a_flow_being_switched_on_says_so_and_when_to_ask_again(api, acme):
    # The host switched the stock flow on (PATCH settings) and asked to run it at once: the
    # answer said it was disabled and to "enable it (the tenant's settings)", which they had
    # just done. Until the settings job sets it on in integrator.io, the answer says that, and
    # when to ask again.
    from provisioning.models import Job, JobKind, JobStatus
    from tests.connect.portal.conftest import STOCK_SOURCE

    tenant = acme.tenant
    stock = TenantFlow.objects.get(tenant=tenant, source_id=STOCK_SOURCE)
    TenantFlow.objects.filter(pk=stock.pk).update(disabled=True)
    tenant.settings = {**tenant.settings, "flows": {"stock": True}}
    tenant.save(update_fields=["settings"])
    job = Job.objects.create(
        tenant=tenant,
        kind=JobKind.UPDATE_SETTINGS,
        status=JobStatus.RUNNING,
        due_at=timezone.now(),
    )

    response = api.post(f"/api/v1/tenants/acme/flows/{stock.flow_id}/run")

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "flow_disabled"
    assert "being switched on" in error["message"]
    assert str(job.id) in error["message"]
    assert int(response["Retry-After"]) >= 1
    assert not FlowRun.objects.filter(flow_id=stock.flow_id).exists()

    # Once no job is applying it, the flow is off as far as anyone knows: as before.
    Job.objects.filter(pk=job.pk).update(status=JobStatus.FAILED, finished_at=timezone.now())
    response = api.post(f"/api/v1/tenants/acme/flows/{stock.flow_id}/run")
    assert response.status_code == 409
    assert "being switched on" not in response.json()["error"]["message"]
    assert "Retry-After" not in response
