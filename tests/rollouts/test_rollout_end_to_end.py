"""A template change taken to a fleet, end to end: real worker, real sandbox, PostgreSQL.

20 tenants are built on 1.0.0, one of them pinned. The vendor changes the template
integration (a new flow, a changed export field) and publishes 1.1.0. A rollout takes it to
every tenant but the pinned one, whose integrations then equal a fresh 1.1.0 provision field
for field (schedules included); rolling back returns each to what a fresh 1.0.0 provision
builds. A fault on the new flow's clone halts a rollout after its canary.
"""

import time

import pytest

from provisioning.models import JobKind, JobOrigin, JobStatus
from provisioning.reconcile.documents import flow_step_ids, managed_fields
from provisioning.services import job_request
from rollouts.driver import rollout_advance
from rollouts.models import RolloutStatus
from rollouts.plan import RolloutSpec
from rollouts.services import rollout_rollback, rollout_start, tenant_pin, tenant_rollback
from tenants.demo_seed import DEMO_TEMPLATE_FILE
from tenants.models import Tenant
from tenants.services import template_document_read, template_load
from tenants.services.template_snapshots import template_snapshot_take
from webhooks.models import Event

NEW_FLOW = "5eed00000000000000000f04"
FINAL = (RolloutStatus.COMPLETED, RolloutStatus.HALTED, RolloutStatus.ROLLED_BACK)


def provision(world, tenant):
    [job] = world.wait(
        job_request(tenant=tenant, kind=JobKind.PROVISION, requested_by=JobOrigin.API)
    )
    assert job.status == JobStatus.SUCCEEDED, job.error_message
    tenant.refresh_from_db()
    return tenant


def publish_next(world):
    """The vendor's change in integrator.io, then 1.1.0 published with its snapshot."""
    world.sandbox.control.template_version("1.1.0")
    document = template_document_read(path=DEMO_TEMPLATE_FILE.with_name("shop-to-erp-1.1.0.yaml"))
    document["key"] = world.template.key
    snapshot = template_snapshot_take(
        client=world.client, source_integration_id=world.seed["integrationId"]
    )
    template, _ = template_load(document=document, snapshot=snapshot)
    return template.versions.get(version="1.1.0")


def drive(rollout, timeout=90.0):
    """Advance the rollout as its task does, until it ends (the worker runs the jobs)."""
    deadline = time.monotonic() + timeout
    while True:
        rollout_advance(rollout_id=rollout.pk)
        rollout.refresh_from_db()
        if rollout.status in FINAL:
            return rollout
        assert time.monotonic() < deadline, f"rollout still {rollout.status}"
        time.sleep(0.3)


def canonical(world, tenant) -> dict:
    """The tenant's integration with everything that names the tenant taken out: flows, exports
    and imports by their template ids, connections by slot, settings as they are."""
    tenant.refresh_from_db()
    slots = {c.connection_id: c.slot_key for c in tenant.connections.all()}
    mine = lambda docs: [d for d in docs if d["_integrationId"] == tenant.integration_id]  # noqa: E731
    steps = {}
    for collection in ("exports", "imports"):
        for doc in mine(world.objects(collection)):
            fields = managed_fields(doc)
            fields.pop("name", None)
            steps[doc["_sourceId"]] = {
                "connection": slots.get(doc.get("_connectionId")),
                "fields": fields,
            }
    by_id = {
        d["_id"]: d["_sourceId"] for c in ("exports", "imports") for d in mine(world.objects(c))
    }
    flows = {
        doc["_sourceId"]: {
            "disabled": doc["disabled"],
            "schedule": doc.get("schedule"),
            "timezone": doc.get("timezone"),
            "settings": doc.get("settings") or {},
            "steps": [by_id[step_id] for _, step_id in flow_step_ids(doc)],
        }
        for doc in mine(world.objects("flows"))
    }
    [integration] = world.clones(tenant)
    return {"flows": flows, "steps": steps, "settings": integration["settings"]}


@pytest.fixture
def fleet(world, versions):
    tenants = [provision(world, world.tenant(f"Customer {n:02d}")) for n in range(20)]
    tenant_pin(tenant=tenants[-1], pinned=True)
    return tenants


def test_a_rollout_reaches_every_unpinned_tenant_and_a_rollback_returns_them(
    world, versions, fleet
):
    pinned = fleet[-1]
    pinned_before = canonical(world, pinned)
    second = publish_next(world)
    fresh_second = world.tenant("Fresh on 1.1.0")
    Tenant.objects.filter(pk=fresh_second.pk).update(template_version=second)
    fresh_second = provision(world, fresh_second)

    rollout = rollout_start(
        template=world.template,
        to_version=second,
        spec=RolloutSpec(strategy="percent", wave_percent=50, max_failure_rate=0.05),
        created_by="test",
    )
    rollout = drive(rollout)

    assert rollout.status == RolloutStatus.COMPLETED, rollout.halt_reason
    expected = canonical(world, fresh_second)
    assert NEW_FLOW in expected["flows"]
    assert expected["flows"][NEW_FLOW]["schedule"] == "? */15 * * * *"
    for tenant in fleet[:-1]:
        tenant.refresh_from_db()
        assert tenant.template_version == second
        assert canonical(world, tenant) == expected, tenant.external_id
    pinned.refresh_from_db()
    assert pinned.template_version == versions
    assert canonical(world, pinned) == pinned_before
    assert rollout.entries.filter(tenant=pinned, state="skipped_pinned").exists()

    # A tenant built to 1.0.0 now that the template integration holds 1.1.0: the provision
    # reconciles it to its version.
    fresh_first = world.tenant("Fresh on 1.0.0")
    Tenant.objects.filter(pk=fresh_first.pk).update(template_version=versions)
    fresh_first = provision(world, fresh_first)
    rollout = drive(rollout_rollback(rollout=rollout))

    assert rollout.status == RolloutStatus.ROLLED_BACK
    expected = canonical(world, fresh_first)
    assert NEW_FLOW not in expected["flows"]
    for tenant in fleet[:-1]:
        tenant.refresh_from_db()
        assert tenant.template_version == versions
        assert canonical(world, tenant) == expected, tenant.external_id


def test_a_fault_on_the_new_flow_halts_the_rollout_after_its_canary(world, versions, fleet):
    second = publish_next(world)
    world.sandbox.control.inject_fault(
        "error", path=f"/v1/flows/{NEW_FLOW}/clone", method="POST", status=422
    )
    canary = [tenant.external_id for tenant in fleet[:2]]

    rollout = rollout_start(
        template=world.template,
        to_version=second,
        spec=RolloutSpec(
            strategy="canary", canary_tenants=canary, wave_percent=50, max_failure_rate=0.1
        ),
        created_by="test",
    )
    rollout = drive(rollout)

    assert rollout.status == RolloutStatus.HALTED
    assert "wave 1" in rollout.halt_reason.lower() or rollout.halt_reason
    queued = rollout.entries.exclude(job=None)
    assert {entry.tenant.external_id for entry in queued} == set(canary)
    for tenant in fleet:
        tenant.refresh_from_db()
        assert tenant.template_version == versions


def test_a_rollback_puts_back_what_a_failed_upgrade_changed_in_its_integration(world, versions):
    """An upgrade that fails part-way (the new flow cloned, then an export refused) leaves the
    tenant on 1.0.0 but its integration holding 1.1.0's flow. Rolling the rollout back must
    leave no tenant with 1.1.0's resources, the failed one included."""
    fleet = [provision(world, world.tenant(f"Customer {n}")) for n in range(3)]
    before = canonical(world, fleet[0])
    second = publish_next(world)
    failing = fleet[2]
    [orders] = [
        doc
        for doc in world.objects("exports")
        if doc["_integrationId"] == failing.integration_id and "orders" in doc["name"].lower()
    ]
    world.sandbox.control.inject_fault(
        "error", path=f"/v1/exports/{orders['_id']}", method="PUT", status=422
    )

    rollout = rollout_start(
        template=world.template,
        to_version=second,
        spec=RolloutSpec(strategy="percent", wave_percent=100, max_failure_rate=0.5),
        created_by="test",
    )
    rollout = drive(rollout)
    assert rollout.status == RolloutStatus.COMPLETED, rollout.halt_reason
    assert rollout.entries.get(tenant=failing).state == "failed"
    assert NEW_FLOW in canonical(world, failing)["flows"]  # what the failed upgrade left

    rollout = drive(rollout_rollback(rollout=rollout))

    assert rollout.status == RolloutStatus.ROLLED_BACK
    entry = rollout.entries.get(tenant=failing)
    assert entry.state == "failed" and entry.rollback_error == ""
    assert entry.rollback_job.status == JobStatus.SUCCEEDED
    for tenant in fleet:
        tenant.refresh_from_db()
        assert tenant.template_version == versions
        assert canonical(world, tenant) == before, tenant.external_id
    failing.refresh_from_db()
    assert failing.status == "active"


def test_one_tenants_own_upgrade_and_its_way_back_are_each_a_tenant_upgraded_event(world, versions):
    """`POST /tenants/{id}/upgrade` moved the tenant's integration and sent the host app
    nothing (an active tenant stays active): only a rollout's moves were `tenant.upgraded`.
    Each move of the tenant's own is one now, with no rollout, beside the status event of a
    status it changes; a reconcile to the version it is on (the drift repair's upgrade job)
    is none."""
    tenant = provision(world, world.tenant("Customer"))
    second = publish_next(world)

    [upgrade] = world.wait(tenant_rollback(tenant=tenant, to_version=second))
    assert upgrade.status == JobStatus.SUCCEEDED, upgrade.error_message
    # Degraded meanwhile: the move back makes it active, and the status change is its event.
    Tenant.objects.filter(pk=tenant.pk).update(status="degraded", last_error="A flow failed.")
    tenant.refresh_from_db()
    [back] = world.wait(tenant_rollback(tenant=tenant, to_version=versions))
    assert back.status == JobStatus.SUCCEEDED, back.error_message
    tenant.refresh_from_db()
    [same] = world.wait(
        job_request(
            tenant=tenant,
            kind=JobKind.UPGRADE,
            requested_by=JobOrigin.SCHEDULE,
            target_version=versions,
        )
    )
    assert same.status == JobStatus.SUCCEEDED, same.error_message

    events = Event.objects.filter(tenant=tenant, event_type="tenant.upgraded").order_by(
        "created_at"
    )
    assert [event.data for event in events] == [
        {
            "from_version": "1.0.0",
            "to_version": "1.1.0",
            "job": str(upgrade.pk),
            "rollout_id": None,
        },
        {"from_version": "1.1.0", "to_version": "1.0.0", "job": str(back.pk), "rollout_id": None},
    ]
    tenant.refresh_from_db()
    assert tenant.status == "active"
    recovered = Event.objects.get(tenant=tenant, event_type="tenant.recovered")
    assert recovered.data["previous_status"] == "degraded"
