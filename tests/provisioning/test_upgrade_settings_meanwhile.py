"""A settings change asked for while a tenant's upgrade job runs is answered with that job
(job_request: it covers a settings job); the upgrade has no settings step, so it must apply
the change itself before it ends, as a provision or a repair does."""

import time

from provisioning.models import JobKind, JobOrigin, JobStatus, StepStatus
from provisioning.services import job_request
from tenants.services import tenant_update
from tests.fixtures.template_versions import evolve_template, publish


def test_settings_changed_while_an_upgrade_ran_reach_integrator_io(world, versions):
    tenant = world.tenant("Upgrading")
    [job] = world.wait(
        job_request(tenant=tenant, kind=JobKind.PROVISION, requested_by=JobOrigin.API)
    )
    assert job.status == JobStatus.SUCCEEDED, job.error_message
    evolve_template(world)
    second = publish(world, "1.1.0")
    tenant.refresh_from_db()
    # The flow clone is slow: the reconcile step has planned (with the settings as they were)
    # and recorded that it is adding the flow well before it ends.
    world.sandbox.control.set_latency_rules(
        [{"path": "/v1/flows/*/clone", "method": "POST", "fixedMs": 1200}]
    )
    job = job_request(
        tenant=tenant, kind=JobKind.UPGRADE, requested_by=JobOrigin.API, target_version=second
    )
    step = job.steps.get(name="reconcile")
    deadline = time.monotonic() + 30
    while "adding_flow" not in step.output and time.monotonic() < deadline:
        time.sleep(0.05)
        step.refresh_from_db()
    assert step.status == StepStatus.RUNNING and "adding_flow" in step.output

    tenant_update(tenant=tenant, settings_patch={"sync_interval_minutes": 60})
    again = job_request(tenant=tenant, kind=JobKind.UPDATE_SETTINGS, requested_by=JobOrigin.API)
    assert again.pk == job.pk  # the running upgrade covers it

    [job] = world.wait(job)
    assert job.status == JobStatus.SUCCEEDED, job.error_message
    assert job.outage_retries == 0  # one run: the clone answered within the client's timeout
    tenant.refresh_from_db()
    assert tenant.template_version == second
    [clone] = world.clones(tenant)
    assert clone["settings"]["pollIntervalMinutes"] == 60
    flows = [f for f in world.objects("flows") if f["_integrationId"] == tenant.integration_id]
    assert len(flows) == 4
    assert {f["schedule"] for f in flows} == {"? 0 * * * *"}
