"""What the service changes itself, it knows at once: its records follow each job, without
waiting for the next sync or check."""

from provisioning.models import JobKind, JobOrigin, JobStatus
from provisioning.services import job_request
from runs.models import TenantFlow
from tenants.models import ConnectionStatus, TenantStatus
from tenants.services import tenant_update

STOCK = "5eed00000000000000000f03"


def request(world, tenant, kind):
    [job] = world.wait(job_request(tenant=tenant, kind=kind, requested_by=JobOrigin.API))
    return job


def provisioned(world, name):
    tenant = world.tenant(name)
    job = request(world, tenant, JobKind.PROVISION)
    assert job.status == JobStatus.SUCCEEDED, job.error_message
    tenant.refresh_from_db()
    return tenant


def flows_by_source(world, tenant) -> dict[str, str]:
    return {
        f["_sourceId"]: f["_id"]
        for f in world.objects("flows")
        if f["_integrationId"] == tenant.integration_id
    }


def test_the_flow_list_shows_a_provision_and_a_settings_change_at_once(world):
    tenant = provisioned(world, "Switching")
    stock = flows_by_source(world, tenant)[STOCK]
    assert TenantFlow.objects.filter(tenant=tenant).count() == 3
    assert TenantFlow.objects.get(tenant=tenant, flow_id=stock).disabled is True

    tenant_update(tenant=tenant, settings_patch={"flows": {"stock": True}})
    job = request(world, tenant, JobKind.UPDATE_SETTINGS)

    assert job.status == JobStatus.SUCCEEDED, job.error_message
    assert TenantFlow.objects.get(tenant=tenant, flow_id=stock).disabled is False


def test_a_deprovisioned_tenant_shows_no_integration_and_no_working_connection(world):
    tenant = provisioned(world, "Leaving")

    job = request(world, tenant, JobKind.DEPROVISION)

    assert job.status == JobStatus.SUCCEEDED, job.error_message
    tenant.refresh_from_db()
    assert tenant.status == TenantStatus.DEPROVISIONED
    assert tenant.integration_id == ""
    assert set(tenant.connections.values_list("status", "connection_id")) == {
        (ConnectionStatus.MISSING, "")
    }
    assert not TenantFlow.objects.filter(tenant=tenant, removed_at__isnull=True).exists()
    deleted = job.steps.get(name="delete_integration").output["deleted"]
    assert len(deleted) == 1, "the job's steps keep the integration id as history"
