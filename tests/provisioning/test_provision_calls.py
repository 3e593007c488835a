"""What a provision costs in integrator.io calls when the version has a snapshot, and that a
wrong clone is still caught: real worker, real sandbox (its `clone_fault` control)."""

from provisioning.models import ApiCall, JobKind, JobOrigin, JobStatus, StepStatus
from provisioning.services import job_request
from tenants.models import CallPurpose, TenantCallCount, TenantStatus
from tests.fixtures.template_versions import ERP
from tests.provisioning.test_upgrade import remaining_plan

ORDERS, CUSTOMERS, STOCK = (
    "5eed00000000000000000f01",
    "5eed00000000000000000f02",
    "5eed00000000000000000f03",
)
# Clone 1, settings and tag 1 (PATCH) with the wiring read 1, a PATCH per flow 3.
CALLS_PER_PROVISION = 6


def provision(world, tenant):
    [job] = world.wait(job_request(tenant=tenant, kind=JobKind.PROVISION, requested_by="api"))
    return job


def tenant_calls(job):
    """The job's calls, without the check that the template integration still holds the
    version (four reads of the template, at most once a minute per worker: not the tenant's)."""
    template = job.tenant.template_version.source_integration_id
    return ApiCall.objects.filter(job=job).exclude(
        method="GET", path__contains=f"/integrations/{template}"
    )


def test_it_provisions_a_tenant_in_six_calls(world, versions):
    first = provision(world, world.tenant("Warm-up"))
    assert first.status == JobStatus.SUCCEEDED, first.error_message
    tenant = world.tenant("Acme", settings={"store_id": "acme-eu"})

    job = provision(world, tenant)

    assert job.status == JobStatus.SUCCEEDED, job.error_message
    # The template was checked by the warm-up's job, a moment ago: nothing of it here.
    calls = ApiCall.objects.filter(job=job)
    assert calls.count() == CALLS_PER_PROVISION
    by_step = sorted(calls.values_list("step__name", "method"))
    assert by_step == [
        ("clone", "POST"),
        ("enable", "PATCH"),
        ("enable", "PATCH"),
        ("enable", "PATCH"),
        ("settings", "GET"),
        ("settings", "PATCH"),
    ]
    assert tenant_calls(first).count() == CALLS_PER_PROVISION
    # The tenant's own tally says the same (tenants.call_costs).
    cost = TenantCallCount.objects.get(tenant=tenant, purpose=CallPurpose.PROVISION)
    assert cost.calls == CALLS_PER_PROVISION

    tenant.refresh_from_db()
    assert tenant.status == TenantStatus.ACTIVE
    [clone] = world.clones(tenant)
    assert clone["tag"] == world.tag(tenant)
    assert clone["settings"]["storeId"] == "acme-eu"
    assert clone["settings"]["orderSync"]["orderStatus"] == "paid"  # the template's, kept
    assert clone["settings"]["_embedded"] == {"templateVersion": versions.version}
    flows = {
        f["_sourceId"]: f for f in world.objects("flows") if f["_integrationId"] == clone["_id"]
    }
    assert flows[ORDERS]["disabled"] is False
    assert flows[CUSTOMERS]["disabled"] is False
    assert flows[STOCK]["disabled"] is True
    assert {(f["schedule"], f["timezone"]) for f in flows.values()} == {
        ("? */15 * * * *", "Europe/Berlin")
    }
    # What the reconcile engine would still change: nothing.
    reconcile = job.steps.get(name="reconcile")
    assert reconcile.output["rounds"] == 0
    assert remaining_plan(world, tenant, versions) == ()


def test_a_clone_that_missed_a_flow_is_caught_and_repaired(world, versions):
    world.sandbox.control.configure(clone_fault="drop_flow")
    tenant = world.tenant("Acme")

    job = provision(world, tenant)

    assert job.status == JobStatus.SUCCEEDED, job.error_message
    clone = job.steps.get(name="clone").output
    assert "predicted_flows" not in clone
    assert any("missing: ERP stock levels" in p for p in clone["clone_problems"])
    # The reading path found the clone short of a flow and cloned it from the template.
    changes = job.steps.get(name="reconcile").output["changes"]
    assert "AddFlow" in {c["change"] for c in changes}
    tenant.refresh_from_db()
    flows = {
        f["_sourceId"]
        for f in world.objects("flows")
        if f["_integrationId"] == tenant.integration_id
    }
    assert flows == {ORDERS, CUSTOMERS, STOCK}


def test_a_clone_wired_to_a_wrong_connection_is_caught(world, versions):
    world.sandbox.control.configure(clone_fault="keep_source_connection")
    tenant = world.tenant("Acme")

    job = provision(world, tenant)

    assert job.status == JobStatus.FAILED
    assert job.error_code == "verification_failed"
    assert ERP in job.error_message  # the template's own ERP connection
    # Found by the read made with the settings: no flow was switched on.
    assert job.steps.get(name="enable").status == StepStatus.FAILED
    assert "Its flows were left off" in job.error_message
    assert not tenant_calls(job).filter(method="PATCH", path__contains="/flows/").exists()
    tenant.refresh_from_db()
    clone_flows = [
        f for f in world.objects("flows") if f["_integrationId"] == tenant.integration_id
    ]
    assert len(clone_flows) == 3
    assert all(f["disabled"] is True for f in clone_flows)

    world.sandbox.control.configure(clone_fault="")
    [repair] = world.wait(
        job_request(tenant=tenant, kind=JobKind.REPAIR, requested_by=JobOrigin.API)
    )
    assert repair.status == JobStatus.SUCCEEDED, repair.error_message
    tenant.refresh_from_db()
    own = set(tenant.connections.values_list("connection_id", flat=True))
    for collection in ("exports", "imports"):
        used = {
            d["_connectionId"]
            for d in world.objects(collection)
            if d["_integrationId"] == tenant.integration_id
        }
        assert used == own


def test_the_flows_are_written_side_by_side_and_one_refused_leaves_the_others_written(
    world, versions
):
    first = provision(world, world.tenant("Warm-up"))
    assert first.status == JobStatus.SUCCEEDED, first.error_message
    world.sandbox.control.set_latency(300, path="/v1/flows/*", method="PATCH")
    world.sandbox.control.inject_fault(
        "error", path="/v1/flows/*", method="PATCH", status=422, times=1
    )
    tenant = world.tenant("Acme")

    job = provision(world, tenant)

    assert job.status == JobStatus.FAILED
    assert job.error_code == "flow_refused"
    enable = job.steps.get(name="enable")
    # Three PATCHes of 300 ms at the same time: one after the other they take 0.9 s.
    assert (enable.finished_at - enable.started_at).total_seconds() < 0.6
    assert ApiCall.objects.filter(job=job, step=enable, method="PATCH").count() == 3
    # The two flows the refusal did not concern were written all the same.
    tenant.refresh_from_db()
    flows = [f for f in world.objects("flows") if f["_integrationId"] == tenant.integration_id]
    assert sum(f.get("schedule") == "? */15 * * * *" for f in flows) == 2

    world.sandbox.control.clear_latency()
    [repair] = world.wait(
        job_request(tenant=tenant, kind=JobKind.REPAIR, requested_by=JobOrigin.API)
    )
    assert repair.status == JobStatus.SUCCEEDED, repair.error_message
