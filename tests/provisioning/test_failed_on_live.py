"""A job that fails on a live integration leaves the tenant degraded, not failed: its flows keep
running on the integration as it was, so health, runs and run-now still treat it as live."""

import pytest

from provisioning.models import JobKind, JobOrigin, JobStatus
from provisioning.services import job_request, job_retry, tenant_settings_update
from runs.health import health_rollup
from runs.scheduling import live_tenants
from tenants.models import ConnectionStatus, TenantStatus
from tenants.services import tenant_transition
from tests.fixtures.template_versions import publish
from tests.provisioning.test_provision_calls import provision


@pytest.fixture
def live(world, versions):
    tenant = world.tenant("Acme")
    job = provision(world, tenant)
    assert job.status == JobStatus.SUCCEEDED, job.error_message
    tenant.refresh_from_db()
    assert tenant.status == TenantStatus.ACTIVE
    return tenant


def _request(world, tenant, kind):
    if kind == JobKind.UPGRADE:
        return job_request(
            tenant=tenant,
            kind=kind,
            requested_by=JobOrigin.API,
            target_version=publish(world, "1.1.0"),
        )
    if kind == JobKind.UPDATE_SETTINGS:
        return tenant_settings_update(
            tenant=tenant, settings_patch={"sync_interval_minutes": 30}, requested_by="api"
        ).job
    return job_request(tenant=tenant, kind=kind, requested_by=JobOrigin.API)


@pytest.mark.parametrize("kind", [JobKind.UPGRADE, JobKind.REPAIR, JobKind.UPDATE_SETTINGS])
def test_it_leaves_a_live_tenant_degraded_when_its_job_fails(world, live, kind):
    switches = flow_switches(world, live)
    assert False in switches.values()  # some flows run
    # integrator.io refuses every request about the tenant's integration.
    world.sandbox.control.inject_fault(
        "error", status=422, path=f"/v1/integrations/{live.integration_id}*"
    )

    [job] = world.wait(_request(world, live, kind))

    assert job.status == JobStatus.FAILED
    live.refresh_from_db()
    assert live.status == TenantStatus.DEGRADED
    assert live.last_error == job.error_message
    assert live in live_tenants()  # still synced, checked and runnable
    health = health_rollup(tenant=live)
    assert health.status == "unhealthy" and health.reasons == [job.error_message]
    assert flow_switches(world, live) == switches  # its flows go on as they were

    # Fixed upstream and retried: active again.
    world.sandbox.control.clear_faults()
    [job] = world.wait(job_retry(job=job, requested_by=JobOrigin.API))
    assert job.status == JobStatus.SUCCEEDED, job.error_message
    live.refresh_from_db()
    assert (live.status, live.last_error) == (TenantStatus.ACTIVE, "")


@pytest.mark.parametrize("kind", [JobKind.UPGRADE, JobKind.REPAIR])
def test_a_degraded_tenant_stays_degraded_when_its_job_fails(world, live, kind):
    # Degraded by a connection failing its check: a repair or an upgrade then fails at once
    # (connections_not_ready), and the integration still runs as it was.
    live.connections.filter(slot_key="shop").update(
        status=ConnectionStatus.FAILED, last_ping_error="401 Unauthorized"
    )
    tenant_transition(tenant=live, to=TenantStatus.DEGRADED, error="Connection 'shop' failed.")

    [job] = world.wait(_request(world, live, kind))

    assert (job.status, job.error_code) == (JobStatus.FAILED, "connections_not_ready")
    live.refresh_from_db()
    assert (live.status, live.last_error) == (TenantStatus.DEGRADED, job.error_message)
    assert live in live_tenants()


def test_a_refused_account_token_names_the_account_and_how_to_replace_it(world, live):
    # integrator.io refuses the service's own token (403 here: its scope lost these calls; a
    # revoked token's 401 is the same to the job): no retry helps until an operator replaces
    # it, and the tenant's credentials are not what is wrong.
    world.sandbox.control.inject_fault("error", status=403, path="/v1/*")

    [job] = world.wait(job_request(tenant=live, kind=JobKind.REPAIR, requested_by=JobOrigin.API))

    assert job.status == JobStatus.FAILED
    assert job.error_code == "integrator_token_refused"
    assert f"API token of account {live.account.key!r}" in job.error_message
    assert "INTEGRATOR_API_TOKEN" in job.error_message  # where the default account's comes from
    assert "then retry the job" in job.error_message
    assert world.sandbox.token not in job.error_message
    live.refresh_from_db()
    assert (live.status, live.last_error) == (TenantStatus.DEGRADED, job.error_message)


def test_a_provision_that_fails_still_leaves_the_tenant_failed(world, versions):
    tenant = world.tenant("Acme")
    world.sandbox.control.inject_fault("error", status=422, path="/v1/integrations/*")

    [job] = world.wait(
        job_request(tenant=tenant, kind=JobKind.PROVISION, requested_by=JobOrigin.API)
    )

    assert job.status == JobStatus.FAILED
    tenant.refresh_from_db()
    assert tenant.status == TenantStatus.FAILED


def flow_switches(world, tenant) -> dict[str, bool]:
    return {
        flow["_id"]: flow["disabled"]
        for flow in world.objects("flows")
        if flow["_integrationId"] == tenant.integration_id
    }
