"""What a run keeps from its flow job."""

import pytest

from integrator.resources import Job
from runs.mirror import run_fields, runs_upsert, tenant_flows_record
from runs.models import FlowRun, RunStatus, SyncState, TenantFlow
from runs.scheduling import sync_state_for
from tenants.models import IntegrationTemplate, Tenant, TenantStatus
from tests.fixtures.factories import current_version
from webhooks.models import Event

pytestmark = pytest.mark.django_db

JOB = {
    "_id": "6a0000000000000000000001",
    "type": "flow",
    "_integrationId": "i1",
    "_flowId": "f1",
    "status": "completed",
    "createdAt": "2026-01-05T10:00:00.000Z",
    "startedAt": "2026-01-05T10:00:01.000Z",
    "endedAt": "2026-01-05T10:00:03.500Z",
    "numSuccess": 8,
    "numError": 2,
    "numIgnore": 1,
    "numResolved": 1,
    "numExport": 11,
    "numPagesGenerated": 2,
    "lastModified": "2026-01-05T10:00:03.500Z",
}


@pytest.fixture
def tenant():
    template = IntegrationTemplate.objects.create(key="t", name="T", source_integration_id="s")
    return Tenant.objects.create(
        external_id="acme",
        name="Acme",
        template=template,
        template_version=current_version(template),
        status=TenantStatus.ACTIVE,
    )


def test_it_keeps_the_counts_and_timing_of_a_flow_job():
    fields = run_fields(Job.from_api(JOB))

    assert fields["status"] == RunStatus.COMPLETED
    assert fields["duration_ms"] == 2500
    assert (fields["num_success"], fields["num_error"], fields["num_ignore"]) == (8, 2, 1)
    assert (fields["num_resolved"], fields["num_export"], fields["num_pages"]) == (1, 11, 2)


def test_it_reads_both_spellings_of_canceled_and_the_duration_text():
    job = {**JOB, "status": "cancelled", "startedAt": None, "duration": "00:01:02.5"}

    fields = run_fields(Job.from_api(job))

    assert fields["status"] == RunStatus.CANCELED
    assert fields["duration_ms"] == 62500


def test_it_keeps_an_unknown_status_as_running_so_it_is_read_again():
    assert run_fields(Job.from_api({**JOB, "status": "paused"}))["status"] == RunStatus.RUNNING


def test_it_writes_a_job_once_and_again_only_when_it_changed(tenant):
    first = runs_upsert(tenant=tenant, jobs=[Job.from_api({**JOB, "status": "running"})])
    same = runs_upsert(tenant=tenant, jobs=[Job.from_api({**JOB, "status": "running"})])
    done = runs_upsert(tenant=tenant, jobs=[Job.from_api({**JOB, "lastModified": "later"})])

    assert (first.created, same.unchanged, done.updated) == (1, 1, 1)
    assert FlowRun.objects.get().status == RunStatus.COMPLETED


def test_it_reports_an_old_failure_as_history_not_news(tenant):
    runs_upsert(tenant=tenant, jobs=[Job.from_api({**JOB, "status": "failed"})])

    assert FlowRun.objects.get().status == RunStatus.FAILED
    assert not Event.objects.exists()  # created months ago: no run.failed event


def test_flows_recorded_with_their_template_flows_are_fresh(tenant):
    sync_state_for(tenant=tenant)

    tenant_flows_record(tenant=tenant, flows=[("f1", "Orders", False, "t1")])

    assert TenantFlow.objects.get().source_id == "t1"
    assert SyncState.objects.get(tenant=tenant).flows_refreshed_at is not None


def test_flows_recorded_without_their_template_flows_are_read_again_at_the_next_sync(tenant):
    # A job's output from before the source id was kept: the integration page matches its
    # switches by it, so the listing is not taken as fresh.
    sync_state_for(tenant=tenant)

    tenant_flows_record(tenant=tenant, flows=[("f1", "Orders", False)])

    assert TenantFlow.objects.get().name == "Orders"
    assert SyncState.objects.get(tenant=tenant).flows_refreshed_at is None


def test_a_deprovisioned_tenants_runs_are_not_written_again(tenant):
    # Its open runs were closed as abandoned with the deprovision; a sync or a followed run
    # that read the tenant before it left must not reopen them nor add new ones.
    runs_upsert(tenant=tenant, jobs=[Job.from_api({**JOB, "status": "running"})])
    Tenant.objects.filter(pk=tenant.pk).update(status=TenantStatus.DEPROVISIONED)
    FlowRun.objects.filter(tenant=tenant).update(status=RunStatus.ABANDONED)
    second = {**JOB, "_id": "6a0000000000000000000002", "status": "failed"}

    result = runs_upsert(tenant=tenant, jobs=[Job.from_api(JOB), Job.from_api(second)])

    assert not result.changed
    assert list(FlowRun.objects.values_list("status", flat=True)) == [RunStatus.ABANDONED]
    assert not Event.objects.exists()
