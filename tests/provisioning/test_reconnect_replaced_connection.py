"""A live tenant's credentials handed over again for a slot whose connection is gone from
integrator.io (deleted there): a new connection is made, and the tenant's integration, whose
exports and imports still use the old one, is moved to it by a repair job."""

from provisioning.models import JobKind, JobOrigin, JobStatus
from provisioning.services import job_request
from provisioning.services.readiness import credentials_submit
from tenants.models import TenantStatus


def provisioned(world, name):
    tenant = world.tenant(name)
    [job] = world.wait(job_request(tenant=tenant, kind=JobKind.PROVISION, requested_by="api"))
    assert job.status == JobStatus.SUCCEEDED, job.error_message
    tenant.refresh_from_db()
    return tenant


def connections_used(world, tenant) -> set[str]:
    return {
        step["_connectionId"]
        for collection in ("exports", "imports")
        for step in world.objects(collection)
        if step["_integrationId"] == tenant.integration_id
    }


def test_a_reconnect_after_the_connection_was_deleted_moves_the_integration_to_the_new_one(
    world, versions
):
    tenant = provisioned(world, "Reconnecting")
    old = tenant.connections.get(slot_key="shop").connection_id
    assert old in connections_used(world, tenant)
    world.client.delete_connection(old)

    outcome = credentials_submit(
        tenant=tenant,
        slot_key="shop",
        values={
            "base_url": world.sandbox.demo_url("shop"),
            "api_key": world.sandbox.demo_keys["shop"],
        },
        requested_by=JobOrigin.API,
    )

    assert outcome.submission.ok, outcome.submission.message
    new = outcome.submission.connection.connection_id
    assert new != old
    assert outcome.job is not None, "the integration still uses the deleted connection"
    assert outcome.job.kind == JobKind.REPAIR
    [job] = world.wait(outcome.job)
    assert job.status == JobStatus.SUCCEEDED, job.error_message
    used = connections_used(world, tenant)
    assert old not in used
    assert new in used
    tenant.refresh_from_db()
    assert tenant.status == TenantStatus.ACTIVE


def test_a_reconnect_that_updates_the_connection_in_place_queues_nothing(world):
    tenant = provisioned(world, "Updating")

    outcome = credentials_submit(
        tenant=tenant,
        slot_key="shop",
        values={
            "base_url": world.sandbox.demo_url("shop"),
            "api_key": world.sandbox.demo_keys["shop"],
        },
        requested_by=JobOrigin.API,
    )

    assert outcome.submission.ok
    assert outcome.submission.replaced_connection_id == ""
    assert outcome.job is None
