"""The ops admin: job list and page, and the actions that call the services."""

import pytest
from django.contrib.auth import get_user_model

from provisioning.models import Job, JobKind, JobOrigin, JobStatus
from provisioning.services import job_request


@pytest.fixture
def ops(transactional_db, client):
    user = get_user_model().objects.create_superuser("ops", "ops@example.com", "pw-for-tests")
    client.force_login(user)
    return client


def test_it_lists_jobs_and_shows_steps_and_calls(world, ops):
    tenant = world.tenant("Admin view")
    [job] = world.wait(job_request(tenant=tenant, kind="provision", requested_by="admin"))

    listing = ops.get("/admin/provisioning/job/?status__exact=succeeded")
    assert listing.status_code == 200
    assert str(job.pk)[:8] in listing.content.decode()

    page = ops.get(f"/admin/provisioning/job/{job.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "/integrations/" in html  # an API call's path
    assert "verify" in html  # a step


def test_it_retries_a_failed_job_from_the_admin(world, ops):
    world.template.source_integration_id = "5eed0000000000000000dead"
    world.template.save()
    tenant = world.tenant("Admin retry")
    [job] = world.wait(job_request(tenant=tenant, kind=JobKind.PROVISION, requested_by="api"))
    assert job.status == JobStatus.FAILED
    world.template.source_integration_id = world.seed["integrationId"]
    world.template.save()

    response = ops.post(
        "/admin/provisioning/job/",
        {"action": "retry_jobs", "_selected_action": [str(job.pk)]},
        follow=True,
    )

    assert response.status_code == 200
    [job] = world.wait(Job.objects.get(pk=job.pk))
    assert job.status == JobStatus.SUCCEEDED
    assert job.requested_by == JobOrigin.API  # the request that started it stays on record
