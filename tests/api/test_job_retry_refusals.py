"""A refused job retry (POST /api/v1/jobs/{id}/retry) says why with a code of its own, and
the document names each code: a host app branches on the code, not on the words."""

import pytest
from django.utils import timezone

from provisioning.models import Job, JobKind, JobOrigin, JobStatus
from tenants.models import TenantStatus
from tests.fixtures.factories import TenantFactory

pytestmark = pytest.mark.django_db


def _job(tenant, kind, status) -> Job:
    finished = status in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELED)
    return Job.objects.create(
        tenant=tenant,
        kind=kind,
        status=status,
        requested_by=JobOrigin.API,
        due_at=timezone.now(),
        finished_at=timezone.now() if finished else None,
    )


def _refusal(api, job) -> dict:
    response = api.post(f"/api/v1/jobs/{job.pk}/retry")
    assert response.status_code == 409, response.content
    return response.json()["error"]


@pytest.mark.parametrize("status", [JobStatus.SUCCEEDED, JobStatus.QUEUED, JobStatus.RUNNING])
def test_a_job_that_is_not_failed_or_canceled_is_not_retryable(api, status):
    """It said `job_in_progress` of a job that had succeeded."""
    job = _job(TenantFactory(status=TenantStatus.ACTIVE), JobKind.PROVISION, status)

    error = _refusal(api, job)

    assert error["code"] == "job_not_retryable"
    assert error["message"] == (
        f"Only a failed or canceled job can be retried, not a {status} one."
    )


def test_a_job_a_finished_newer_job_followed_is_superseded(api):
    tenant = TenantFactory(status=TenantStatus.ACTIVE)
    upgrade = _job(tenant, JobKind.UPGRADE, JobStatus.FAILED)
    repair = _job(tenant, JobKind.REPAIR, JobStatus.SUCCEEDED)

    error = _refusal(api, upgrade)

    assert error["code"] == "job_superseded"
    assert f"repair {repair.pk}, succeeded" in error["message"]


def test_a_job_whose_tenant_has_a_newer_job_under_way_is_refused_as_in_progress(api):
    tenant = TenantFactory(status=TenantStatus.ACTIVE)
    upgrade = _job(tenant, JobKind.UPGRADE, JobStatus.FAILED)
    repair = _job(tenant, JobKind.REPAIR, JobStatus.RUNNING)

    error = _refusal(api, upgrade)

    assert error["code"] == "job_in_progress"
    assert f"repair {repair.pk}, running" in error["message"]
    # "Once it has finished" is soon: the answer says when to look again.
    assert int(api.post(f"/api/v1/jobs/{upgrade.pk}/retry")["Retry-After"]) >= 1
    # Not "ask for a new upgrade" now: that is refused while the repair runs.
    assert "once it has finished" in error["message"]


def test_a_job_of_a_deprovisioned_tenant_is_refused_as_such(api):
    job = _job(TenantFactory(status=TenantStatus.DEPROVISIONED), JobKind.REPAIR, JobStatus.FAILED)

    assert _refusal(api, job)["code"] == "tenant_deprovisioned"


def test_the_document_names_each_refusal_of_a_retry(api):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    conflict = schema["paths"]["/api/v1/jobs/{job_id}/retry"]["post"]["responses"]["409"]

    for code in ("job_not_retryable", "job_superseded", "job_in_progress", "tenant_deprovisioned"):
        assert f"`{code}`" in conflict["description"], code


def test_a_retried_provision_shows_its_tenant_provisioning_at_once(api):
    # As a provision asked for does: the tenant said `failed`, with the old error, until a
    # worker took the job, while the host app had just been told 202 "queued".
    tenant = TenantFactory(status=TenantStatus.FAILED, last_error="Clone failed.")
    job = _job(tenant, JobKind.PROVISION, JobStatus.FAILED)

    response = api.post(f"/api/v1/jobs/{job.pk}/retry")

    assert response.status_code == 202, response.content
    shown = api.get(f"/api/v1/tenants/{tenant.external_id}").json()
    assert shown["status"] == "provisioning"
    assert api.get(f"/api/v1/jobs/{job.pk}").json()["status"] == "queued"
