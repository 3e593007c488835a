"""Settings updates, repairs and deprovisioning, against a provisioned tenant."""

import time

import pytest

from provisioning.errors import JobNotAllowed
from provisioning.models import JobKind, JobOrigin, JobStatus, StepStatus
from provisioning.services import job_request
from runs.models import SyncState, TenantFlow
from runs.scheduling import sync_state_for
from tenants.models import TenantConnection, TenantStatus
from tenants.services import tenant_update

ORDERS, STOCK = "5eed00000000000000000f01", "5eed00000000000000000f03"
SHOP_TEMPLATE_CONNECTION = "5eed00000000000000000c01"


def run(world, tenant, kind):
    [job] = world.wait(job_request(tenant=tenant, kind=kind, requested_by=JobOrigin.API))
    assert job.status == JobStatus.SUCCEEDED, job.error_message
    tenant.refresh_from_db()
    return job


@pytest.fixture
def active(world):
    tenant = world.tenant("Acme")
    run(world, tenant, JobKind.PROVISION)
    assert tenant.status == TenantStatus.ACTIVE
    return tenant


def test_it_brings_a_settings_change_to_the_integration(world, active):
    before = world.clones(active)[0]["settings"]
    tenant_update(
        tenant=active,
        settings_patch={"sync_interval_minutes": 30, "flows": {"stock": True, "orders": False}},
    )
    job = run(world, active, JobKind.UPDATE_SETTINGS)

    assert [s.name for s in job.steps.order_by("position")] == [
        "settings",
        "enable",
        "reconcile",
        "verify",
    ]
    settings_step = job.steps.get(name="settings")
    assert "pollIntervalMinutes" in settings_step.output["changed"]
    [clone] = world.clones(active)
    assert clone["settings"]["pollIntervalMinutes"] == 30
    # Read, merge, write: nothing the change did not touch was reset (the orders switch is
    # mapped into orderSync.enabled).
    assert clone["settings"]["orderSync"] == {**before["orderSync"], "enabled": False}
    assert clone["settings"]["storeId"] == before["storeId"]
    flows = {
        f["_sourceId"]: f for f in world.objects("flows") if f["_integrationId"] == clone["_id"]
    }
    assert flows[STOCK]["disabled"] is False
    assert flows[ORDERS]["disabled"] is True
    assert active.status == TenantStatus.ACTIVE


def test_it_skips_writes_when_nothing_differs(world, active):
    job = run(world, active, JobKind.UPDATE_SETTINGS)

    settings_output = job.steps.get(name="settings").output
    assert settings_output["changed"] == []
    assert settings_output["written"] is False
    assert job.steps.get(name="enable").output["patched"] == []
    assert not job.api_calls.filter(method__in=["PUT", "PATCH", "POST"]).exists()


def test_it_repairs_a_clone_that_drifted(world, active):
    integration_id = active.integration_id
    [export] = [
        e
        for e in world.objects("exports")
        if e["_integrationId"] == integration_id and e["name"] == "Get paid shop orders"
    ]
    # Someone points the tenant's export back at the template's connection, and enables a flow.
    world.client.modify_export(
        export["_id"], lambda doc: doc.update(_connectionId=SHOP_TEMPLATE_CONNECTION)
    )
    [stock] = [
        f
        for f in world.objects("flows")
        if f["_integrationId"] == integration_id and f["_sourceId"] == STOCK
    ]
    world.client.patch_flow(stock["_id"], [{"op": "replace", "path": "/disabled", "value": False}])

    job = run(world, active, JobKind.REPAIR)

    assert job.steps.get(name="clone").output["how"] == "confirmed"
    [rewired] = job.steps.get(name="wire").output["rewired"]
    assert rewired["id"] == export["_id"]
    shop = TenantConnection.objects.get(tenant=active, slot_key="shop").connection_id
    assert world.client.get_export(export["_id"]).connection_id == shop
    assert world.client.get_flow(stock["_id"]).disabled is True
    assert len(world.clones(active)) == 1
    assert active.integration_id == integration_id


def test_it_repairs_a_deleted_clone_by_cloning_again(world, active):
    world.client.delete_integration(active.integration_id)

    job = run(world, active, JobKind.REPAIR)

    assert job.steps.get(name="clone").output["how"] == "cloned"
    [clone] = world.clones(active)
    assert active.integration_id == clone["_id"]
    assert active.status == TenantStatus.ACTIVE


def _mirrored_flows_match_the_clone(world, tenant):
    """The runs mirror, as the job's end recorded it, names each flow's template flow: the
    integration page matches its on/off buttons by it."""
    in_clone = {
        f["_id"]: f["_sourceId"]
        for f in world.objects("flows")
        if f["_integrationId"] == tenant.integration_id
    }
    mirrored = dict(
        TenantFlow.objects.filter(tenant=tenant, removed_at__isnull=True).values_list(
            "flow_id", "source_id"
        )
    )
    assert in_clone and all(in_clone.values())
    assert mirrored == in_clone


def test_a_fresh_clone_is_mirrored_with_each_flows_template_flow(world, versions):
    # With a snapshot, the clone's flows are known from its answer and never read back.
    tenant = world.tenant("Fresh")
    job = run(world, tenant, JobKind.PROVISION)

    assert job.steps.get(name="clone").output["predicted_flows"]
    _mirrored_flows_match_the_clone(world, tenant)


def test_a_repair_that_clones_again_is_mirrored_with_each_flows_template_flow(world, versions):
    tenant = world.tenant("Repaired")
    run(world, tenant, JobKind.PROVISION)
    sync_state_for(tenant=tenant)
    world.client.delete_integration(tenant.integration_id)

    job = run(world, tenant, JobKind.REPAIR)

    assert job.steps.get(name="clone").output["predicted_flows"]
    _mirrored_flows_match_the_clone(world, tenant)
    # Recorded as fresh, so the next sync does not read the flows again: they must be right.
    assert SyncState.objects.get(tenant=tenant).flows_refreshed_at is not None


def test_it_deletes_connections_the_clone_copied(world):
    # A connection of the template integration that no slot maps: the clone copies it.
    extra = world.client.create_connection(
        {
            "type": "http",
            "name": "Template extra",
            "_integrationId": world.seed["integrationId"],
            "http": {"baseURI": world.sandbox.demo_url("shop"), "mediaType": "json"},
        }
    )
    tenant = world.tenant("Copies")
    job = run(world, tenant, JobKind.PROVISION)

    copied = job.steps.get(name="clone").output["copied_connection_ids"]
    assert len(copied) == 1
    assert job.steps.get(name="wire").output["deleted_connections"] == copied
    ids = {c["_id"] for c in world.objects("connections")}
    assert copied[0] not in ids
    assert extra.id in ids  # the template's own connection is never touched


def test_it_deprovisions_leaving_nothing_behind(world):
    baseline = world.sandbox.control.counts()
    tenant = world.tenant("Leaving")
    run(world, tenant, JobKind.PROVISION)
    assert world.sandbox.control.counts() != baseline

    job = run(world, tenant, JobKind.DEPROVISION)

    assert [s.status for s in job.steps.order_by("position")] == [StepStatus.SUCCEEDED] * 6
    assert world.sandbox.control.counts() == baseline
    assert world.clones(tenant) == []
    assert tenant.status == TenantStatus.DEPROVISIONED
    # The rows stay, for audit.
    assert TenantConnection.objects.filter(tenant=tenant).count() == 2
    inventory = job.steps.get(name="disable_flows").output
    assert len(inventory["flows"]) == 3
    assert len(inventory["connections"]) == 2


def test_it_applies_settings_changed_while_the_job_ran(world):
    tenant = world.tenant("Changing")
    # Slow enough that the run writes its progress (a lease renewal, PROGRESS_STALE_SECONDS
    # after its last write) as the flows' PATCHes end, and then still has the verify's read
    # to make: a second in which the settings step shows as done and the job still runs.
    world.sandbox.control.set_latency_rules(
        [
            {"path": "/v1/flows/*", "method": "PATCH", "fixedMs": 1800},
            {"path": "/v1/integrations/*/connections", "method": "GET", "fixedMs": 1000},
            {"path": "/v1/*", "method": "*", "fixedMs": 400},
        ]
    )
    job = job_request(tenant=tenant, kind=JobKind.PROVISION, requested_by=JobOrigin.API)
    settings_step = job.steps.get(name="settings")
    deadline = time.monotonic() + 30
    while settings_step.status != StepStatus.SUCCEEDED and time.monotonic() < deadline:
        time.sleep(0.05)
        settings_step.refresh_from_db()
    assert settings_step.status == StepStatus.SUCCEEDED

    tenant_update(tenant=tenant, settings_patch={"sync_interval_minutes": 60})
    again = job_request(tenant=tenant, kind=JobKind.UPDATE_SETTINGS, requested_by=JobOrigin.API)
    assert again.pk == job.pk  # the running provision covers it

    [job] = world.wait(job)
    assert job.status == JobStatus.SUCCEEDED
    assert world.clones(tenant)[0]["settings"]["pollIntervalMinutes"] == 60
    assert job.steps.get(name="settings").attempts == 2


def test_it_refuses_jobs_the_tenant_status_does_not_allow(world):
    fresh = world.tenant("Fresh", ready=False)
    with pytest.raises(JobNotAllowed):
        job_request(tenant=fresh, kind=JobKind.UPDATE_SETTINGS, requested_by=JobOrigin.API)
    with pytest.raises(JobNotAllowed):
        job_request(tenant=fresh, kind=JobKind.REPAIR, requested_by=JobOrigin.API)


def test_a_repair_refused_for_want_of_credentials_says_how_the_tenant_gets_them(world):
    """It said "provision it", which the service then refuses for the same missing
    credentials: an ops person was sent from one refusal to another."""
    fresh = world.tenant("Fresh", ready=False)
    assert fresh.status == TenantStatus.AWAITING_CREDENTIALS
    with pytest.raises(JobNotAllowed) as error:
        job_request(tenant=fresh, kind=JobKind.REPAIR, requested_by=JobOrigin.ADMIN)
    message = error.value.message
    assert "provision it" not in message
    assert "no integration to repair yet" in message
    assert "connect link" in message
    assert "provisioned by itself" in message


def test_it_refuses_to_provision_an_active_tenant_again(world, active):
    with pytest.raises(JobNotAllowed) as error:
        job_request(tenant=active, kind=JobKind.PROVISION, requested_by=JobOrigin.API)
    assert "repair" in error.value.message


def test_it_deprovisions_instead_of_a_provision_still_queued(world):
    tenant = world.tenant("Changed mind")
    world.engine.kill()
    try:
        provision_job = job_request(
            tenant=tenant, kind=JobKind.PROVISION, requested_by=JobOrigin.API
        )
        deprovision_job = job_request(
            tenant=tenant, kind=JobKind.DEPROVISION, requested_by=JobOrigin.API
        )
    finally:
        world.engine.restart()

    provision_job.refresh_from_db()
    assert provision_job.status == JobStatus.CANCELED
    [deprovision_job] = world.wait(deprovision_job)
    assert deprovision_job.status == JobStatus.SUCCEEDED, deprovision_job.error_message
    tenant.refresh_from_db()
    assert tenant.status == TenantStatus.DEPROVISIONED
    assert world.clones(tenant) == []
    # Asking again is safe: the finished deprovision job is returned.
    again = job_request(tenant=tenant, kind=JobKind.DEPROVISION, requested_by=JobOrigin.API)
    assert again.pk == deprovision_job.pk
