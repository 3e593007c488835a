"""A run still open when its tenant is deprovisioned: nothing syncs a deprovisioned tenant
again, so it said "running" for ever (API, integration page, admin). It is closed as
`abandoned` with the deprovision, its counts as last read and no end time made up."""

from datetime import timedelta

import pytest
from django.utils import timezone

from provisioning.models import JobKind, JobOrigin, JobStatus
from provisioning.services import job_request
from runs.models import FlowRun, RunStatus
from tests.provisioning.test_provision_calls import provision

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_run_open_at_the_deprovision_is_closed_as_abandoned(world, live_api):
    tenant = world.tenant("Acme")
    assert provision(world, tenant).status == JobStatus.SUCCEEDED
    started = timezone.now() - timedelta(minutes=3)
    mirrored = {"created_at": started, "started_at": started, "synced_at": started}
    running = FlowRun.objects.create(
        tenant=tenant,
        job_id="5eed000000000000000a0001",
        flow_id="5eed000000000000000f0001",
        status=RunStatus.RUNNING,
        num_success=12,
        num_error=1,
        **mirrored,
    )
    done = FlowRun.objects.create(
        tenant=tenant,
        job_id="5eed000000000000000a0002",
        flow_id="5eed000000000000000f0001",
        status=RunStatus.COMPLETED,
        ended_at=started + timedelta(seconds=30),
        num_success=5,
        **mirrored,
    )

    [job] = world.wait(
        job_request(tenant=tenant, kind=JobKind.DEPROVISION, requested_by=JobOrigin.API)
    )
    assert job.status == JobStatus.SUCCEEDED, job.error_message

    runs = {
        run["run_id"]: run
        for run in live_api.get(f"/api/v1/tenants/{tenant.external_id}/runs").json()["results"]
    }
    abandoned = runs[running.job_id]
    assert abandoned["status"] == "abandoned"
    assert (abandoned["num_success"], abandoned["num_error"]) == (12, 1), "as last read"
    assert (abandoned["ended_at"], abandoned["duration_ms"]) == (None, None), "never seen"
    assert runs[done.job_id]["status"] == "completed", "a finished run stays as it ended"
    assert FlowRun.objects.get(pk=running.pk).synced_at > started
