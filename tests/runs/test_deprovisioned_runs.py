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


def test_a_sync_writing_while_the_deprovision_commits_waits_and_leaves_the_run_closed():
    # The deprovision's transaction has closed the open run but not committed yet when a
    # sync, which read the tenant as live before, writes the run it read as running. The
    # write waits for the deprovision to commit and then leaves the run closed.
    import threading

    from django.db import connection, transaction

    from integrator.resources import Job
    from runs.mirror import runs_upsert
    from tenants.models import Tenant, TenantStatus
    from tenants.services.tenants import tenant_transition
    from tests.fixtures.factories import TenantFactory

    tenant = TenantFactory(status=TenantStatus.DEPROVISIONING, integration_id="i1")
    started = timezone.now() - timedelta(minutes=3)
    FlowRun.objects.create(
        tenant=tenant,
        job_id="5eed000000000000000a0004",
        flow_id="f1",
        status=RunStatus.RUNNING,
        created_at=started,
        synced_at=started,
        remote_modified_at="2026-01-05T10:00:00.000Z",
    )
    job = Job.from_api(
        {
            "_id": "5eed000000000000000a0004",
            "type": "flow",
            "_integrationId": "i1",
            "_flowId": "f1",
            "status": "running",
            "createdAt": started.isoformat(),
            "lastModified": "2026-01-05T10:00:05.000Z",
        }
    )
    closed, go = threading.Event(), threading.Event()

    def deprovision():
        try:
            with transaction.atomic():
                tenant_transition(
                    tenant=Tenant.objects.get(pk=tenant.pk), to=TenantStatus.DEPROVISIONED
                )
                closed.set()
                go.wait(timeout=10)
        finally:
            connection.close()

    worker = threading.Thread(target=deprovision)
    worker.start()
    assert closed.wait(timeout=10)
    threading.Timer(0.5, go.set).start()  # it commits while the write below waits
    result = runs_upsert(tenant=tenant, jobs=[job])
    worker.join(timeout=10)

    assert not result.changed
    assert FlowRun.objects.get(job_id=job.id).status == RunStatus.ABANDONED


def test_a_failed_deprovision_keeps_them_until_its_retry_closes_them(world, live_api):
    # A deprovision that fails leaves the tenant `failed`, its integration partly there: its
    # open run and open drift stay as they were (nothing is known to have ended), and the API
    # says why it failed. The retried deprovision that succeeds closes both.
    from provisioning.models import Drift

    tenant = world.tenant("Leaving")
    assert provision(world, tenant).status == JobStatus.SUCCEEDED
    started = timezone.now() - timedelta(minutes=3)
    running = FlowRun.objects.create(
        tenant=tenant,
        job_id="5eed000000000000000a0003",
        flow_id="5eed000000000000000f0001",
        status=RunStatus.RUNNING,
        created_at=started,
        started_at=started,
        synced_at=started,
    )
    drift = Drift.objects.create(
        tenant=tenant, version=tenant.template_version, found_at=started, last_seen_at=started
    )
    world.sandbox.control.inject_fault("error", method="DELETE", status=400)
    try:
        [failed] = world.wait(
            job_request(tenant=tenant, kind=JobKind.DEPROVISION, requested_by=JobOrigin.API)
        )
    finally:
        world.sandbox.control.clear_faults()
    assert failed.status == JobStatus.FAILED

    record = live_api.get(f"/api/v1/tenants/{tenant.external_id}").json()
    assert record["status"] == "failed"
    assert record["last_job"]["kind"] == "deprovision" and record["last_job"]["status"] == "failed"
    assert FlowRun.objects.get(pk=running.pk).status == RunStatus.RUNNING
    assert Drift.objects.get(pk=drift.pk).cleared_at is None

    response = live_api.delete(f"/api/v1/tenants/{tenant.external_id}")
    assert response.status_code == 202, response.content
    tenant.refresh_from_db()
    [job] = world.wait(tenant.latest_job)
    assert job.status == JobStatus.SUCCEEDED, job.error_message

    runs = live_api.get(f"/api/v1/tenants/{tenant.external_id}/runs").json()["results"]
    assert {run["run_id"]: run["status"] for run in runs} == {running.job_id: "abandoned"}
    assert Drift.objects.get(pk=drift.pk).cleared_at is not None
    assert live_api.get(f"/api/v1/tenants/{tenant.external_id}").json()["status"] == (
        "deprovisioned"
    )
