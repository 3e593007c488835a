"""The jobs API (/api/v1/): provision, list, detail, retry, cancel."""

import time
import uuid

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework.test import APIClient

from provisioning.models import Job, JobKind, JobOrigin, JobStatus
from provisioning.services import job_request
from tenants.models import TenantStatus


def test_it_provisions_through_the_api_and_reports_every_step(world, live_api):
    tenant = world.tenant("Acme")

    response = live_api.post(f"/api/v1/tenants/{tenant.external_id}/provision")

    assert response.status_code == 202, response.json()
    body = response.json()
    assert body["kind"] == "provision"
    assert body["tenant"] == tenant.external_id
    assert body["requested_by"] == "api"
    assert [s["name"] for s in body["steps"]] == [
        "connections",
        "clone",
        "wire",
        "settings",
        "enable",
        "reconcile",
        "verify",
    ]
    assert response["Location"] == f"/api/v1/jobs/{body['id']}"

    world.wait(Job.objects.get(pk=body["id"]))
    detail = live_api.get(f"/api/v1/jobs/{body['id']}/").json()
    assert detail["status"] == "succeeded"
    assert detail["error"] is None
    assert detail["duration_seconds"] > 0
    assert detail["api_calls"] == sum(s["api_calls"] for s in detail["steps"]) > 0
    clone = next(s for s in detail["steps"] if s["name"] == "clone")
    assert clone["status"] == "succeeded"
    assert clone["api_calls"] == 1
    assert clone["output"]["integration_id"] == world.clones(tenant)[0]["_id"]
    assert clone["duration_seconds"] is not None

    listing = live_api.get(f"/api/v1/tenants/{tenant.external_id}/jobs/").json()
    assert [j["id"] for j in listing["results"]] == [body["id"]]
    assert "steps" not in listing["results"][0]


def test_it_returns_the_unfinished_job_when_asked_twice(world, live_api):
    tenant = world.tenant("Twice")
    world.engine.kill()  # nothing runs: the first job stays queued
    try:
        first = live_api.post(f"/api/v1/tenants/{tenant.external_id}/provision").json()
        second = live_api.post(f"/api/v1/tenants/{tenant.external_id}/provision")
        assert second.status_code == 202
        assert second.json()["id"] == first["id"]
        assert Job.objects.filter(tenant=tenant).count() == 1
    finally:
        world.engine.restart()
    world.wait(Job.objects.get(pk=first["id"]))


def test_it_refuses_to_provision_without_credentials_and_names_the_slots(world, live_api):
    tenant = world.tenant("Empty", ready=False)
    response = live_api.post(f"/api/v1/tenants/{tenant.external_id}/provision")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "credentials_missing"
    assert set(error["fields"]) == {"connections.shop", "connections.erp"}
    assert not Job.objects.filter(tenant=tenant).exists()


def test_it_refuses_another_kind_while_a_job_is_unfinished(world, live_api):
    tenant = world.tenant("Busy")
    world.engine.kill()
    try:
        job_request(tenant=tenant, kind=JobKind.PROVISION, requested_by=JobOrigin.API)
        response = live_api.post(f"/api/v1/tenants/{tenant.external_id}/repair")
        assert response.status_code == 409
        assert response.json()["error"]["code"] in ("job_in_progress", "job_not_allowed")
    finally:
        world.engine.restart()


def test_it_cancels_a_queued_job_and_retries_it(world, live_api):
    tenant = world.tenant("Cancel me")
    world.engine.kill()
    try:
        job = job_request(tenant=tenant, kind=JobKind.PROVISION, requested_by=JobOrigin.API)
        response = live_api.post(f"/api/v1/jobs/{job.pk}/cancel")
        assert response.status_code == 200
        assert response.json()["status"] == "canceled"
        assert {s["status"] for s in response.json()["steps"]} == {"skipped"}
        again = live_api.post(f"/api/v1/jobs/{job.pk}/cancel")
        assert again.status_code == 409
        assert again.json()["error"]["code"] == "job_finished"
    finally:
        world.engine.restart()
    # The canceled job's message, if still queued, finds nothing to claim.
    assert world.clones(tenant) == []

    retried = live_api.post(f"/api/v1/jobs/{job.pk}/retry")
    assert retried.status_code == 202
    # Queued by the retry; the worker may have taken it by the time the answer is read.
    assert retried.json()["status"] in ("queued", "running")
    assert retried["Location"] == f"/api/v1/jobs/{retried.json()['id']}"
    [job] = world.wait(job)
    assert job.status == JobStatus.SUCCEEDED
    tenant.refresh_from_db()
    assert tenant.status == TenantStatus.ACTIVE


def test_it_refuses_to_retry_a_job_that_succeeded(world, live_api):
    tenant = world.tenant("Done")
    [job] = world.wait(job_request(tenant=tenant, kind="provision", requested_by="api"))

    response = live_api.post(f"/api/v1/jobs/{job.pk}/retry")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "job_not_retryable"


def test_it_answers_404_for_unknown_jobs_and_tenants(live_api):
    assert live_api.get(f"/api/v1/jobs/{uuid.uuid4()}/").json()["error"]["code"] == "job_not_found"
    assert live_api.get("/api/v1/jobs/not-a-uuid/").status_code == 404
    assert live_api.post("/api/v1/tenants/nobody/provision").status_code == 404
    assert live_api.post(f"/api/v1/jobs/{uuid.uuid4()}/retry").status_code == 404


def test_it_requires_an_api_key(transactional_db):
    anonymous = APIClient()
    assert anonymous.get(f"/api/v1/jobs/{uuid.uuid4()}/").status_code == 401
    assert anonymous.post("/api/v1/tenants/acme/provision").status_code == 401


def test_a_job_that_waited_out_outages_shows_only_the_attempts_it_spent(api, acme, operator_admin):
    """Runs postponed by integrator.io being unavailable do not spend the attempts cap
    (PROVISIONING_MAX_ATTEMPTS), and the API documents them as `outage_retries`, "not counted
    as attempts". A job that waited out nine outages in one attempt said `attempts: 10`, past
    the cap of 8 (and the admin's Attempts column said 10), as if it were about to fail; its
    attempts are the runs that count against the cap."""
    from django.utils import timezone

    job = Job.objects.create(
        tenant=acme,
        kind=JobKind.PROVISION,
        requested_by=JobOrigin.API,
        status=JobStatus.QUEUED,
        due_at=timezone.now(),
        waiting_since=timezone.now(),
        attempts=10,
        outage_retries=9,
        error_code="circuit_open",
        error_message="Waiting for integrator.io since ...",
    )

    detail = api.get(f"/api/v1/jobs/{job.pk}/").json()
    listed = api.get(f"/api/v1/tenants/{acme.external_id}/jobs/").json()["results"][0]

    assert (detail["attempts"], detail["outage_retries"]) == (1, 9)
    assert (listed["attempts"], listed["outage_retries"]) == (1, 9)
    page = operator_admin.get("/admin/provisioning/job/").content.decode()
    row = page[page.index(str(job.pk)[:8]) :]
    row = row[: row.index("</tr>")]
    assert '<td class="field-attempts_shown">1</td>' in row, row


def test_a_job_asked_for_after_a_running_one_was_canceled_waits_for_its_last_call(world, live_api):
    """A provision canceled while its clone was on its way to integrator.io, and provisioned
    again at once, cloned the template a second time beside the first clone, which landed
    all the same: two integrations for one tenant, one of them an orphan. The new job waits
    until the canceled run can make no more calls (its lease's end), then finds that clone
    and takes it."""
    tenant = world.tenant("Canceled while cloning")
    world.sandbox.control.set_latency(1500, path="/v1/integrations/*/clone", method="POST")
    try:
        job = job_request(tenant=tenant, kind=JobKind.PROVISION, requested_by=JobOrigin.API)
        deadline = time.monotonic() + 20
        # The clone step records that it is about to clone, then posts it.
        while not job.steps.filter(name="clone", output__clone_posted=True).exists():
            assert time.monotonic() < deadline, "the job never reached its clone"
            time.sleep(0.05)

        assert live_api.post(f"/api/v1/jobs/{job.pk}/cancel").status_code == 200
        again = live_api.post(f"/api/v1/tenants/{tenant.external_id}/provision")

        assert again.status_code == 202, again.json()
        job.refresh_from_db()
        assert again.json()["next_attempt_at"] is not None
        assert parse_datetime(again.json()["next_attempt_at"]) > timezone.now()
        [provision] = world.wait(Job.objects.get(pk=again.json()["id"]), timeout=40)
    finally:
        world.sandbox.control.clear_latency()
    assert provision.status == JobStatus.SUCCEEDED
    assert len(world.clones(tenant)) == 1
