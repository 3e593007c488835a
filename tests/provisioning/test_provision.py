"""Provisioning a tenant end to end: real worker, real sandbox, PostgreSQL."""

import pytest

from provisioning.errors import CredentialsMissing
from provisioning.models import ApiCall, JobKind, JobOrigin, JobStatus, StepStatus
from provisioning.services import job_request, job_retry, tenant_settings_update
from tenants.models import TenantConnection, TenantStatus
from tests.fixtures.factories import template_source_set

PROVISION_STEPS = ["connections", "clone", "wire", "settings", "enable", "reconcile", "verify"]
ORDERS, CUSTOMERS, STOCK = (
    "5eed00000000000000000f01",
    "5eed00000000000000000f02",
    "5eed00000000000000000f03",
)


def provision(tenant):
    return job_request(tenant=tenant, kind=JobKind.PROVISION, requested_by=JobOrigin.API)


def test_it_provisions_a_tenant(world):
    tenant = world.tenant("Acme", settings={"store_id": "acme-eu"})
    [job] = world.wait(provision(tenant))

    assert job.status == JobStatus.SUCCEEDED, job.error_message
    steps = list(job.steps.order_by("position"))
    assert [s.name for s in steps] == PROVISION_STEPS
    assert all(s.status == StepStatus.SUCCEEDED and s.attempts == 1 for s in steps)
    tenant.refresh_from_db()
    assert tenant.status == TenantStatus.ACTIVE
    assert tenant.last_error == ""

    [clone] = world.clones(tenant)
    assert tenant.integration_id == clone["_id"]
    # Settings land where the version's mapping says, in the template integration's own keys,
    # not beside them; keys the mapping does not manage are kept.
    assert clone["settings"]["storeId"] == "acme-eu"
    assert clone["settings"]["pollIntervalMinutes"] == 15
    assert clone["settings"]["orderSync"]["orderStatuses"] == ["paid"]
    assert clone["settings"]["orderSync"]["orderStatus"] == "paid"
    assert "store_id" not in clone["settings"]
    assert "sync_interval_minutes" not in clone["settings"]

    own = set(
        TenantConnection.objects.filter(tenant=tenant).values_list("connection_id", flat=True)
    )
    for collection in ("exports", "imports"):
        members = [d for d in world.objects(collection) if d["_integrationId"] == clone["_id"]]
        assert len(members) == 3
        assert {d["_connectionId"] for d in members} <= own

    flows = {
        f["_sourceId"]: f for f in world.objects("flows") if f["_integrationId"] == clone["_id"]
    }
    assert flows[ORDERS]["disabled"] is False
    assert flows[CUSTOMERS]["disabled"] is False
    assert flows[STOCK]["disabled"] is True  # the template's default for stock is off
    # A clone has no schedule: every flow gets the tenant's sync interval, so data moves.
    # In the template flows' own timezone: the mapping sets none.
    assert {(f["schedule"], f["timezone"]) for f in flows.values()} == {
        ("? */15 * * * *", "Europe/Berlin")
    }

    calls = ApiCall.objects.filter(job=job)
    assert calls.filter(step__name="clone", method="POST").count() == 1
    assert not calls.filter(step__name="connections").exists()
    # No call whose answer was already known: clone 1, wire 3 (flows, exports, imports),
    # settings 2 (read, write), enable 4 (a PATCH per flow for its schedule, one read back),
    # verify 1.
    assert calls.count() == 11
    logged = " ".join(calls.values_list("path", flat=True))
    assert all(key not in logged for key in world.sandbox.demo_keys.values())
    assert world.sandbox.token not in logged


def test_it_refuses_to_provision_before_every_slot_works(world):
    tenant = world.tenant("Waiting", ready=False)
    with pytest.raises(CredentialsMissing) as refused:
        provision(tenant)
    assert refused.value.http_status == 409
    assert set(refused.value.fields) == {"connections.shop", "connections.erp"}
    assert not tenant.jobs.exists()


def test_a_job_whose_credentials_went_away_says_it_did_nothing(world):
    """Credentials were there when the job was asked for, and gone when it ran."""
    tenant = world.tenant("Vanishing")
    world.engine.kill()
    try:
        job = provision(tenant)
        TenantConnection.objects.filter(tenant=tenant, slot_key="erp").update(
            status="missing", connection_id=""
        )
    finally:
        world.engine.restart()
    [job] = world.wait(job)

    assert job.status == JobStatus.CANCELED
    assert job.error_code == "waiting_for_credentials"
    assert "erp" in job.error_message
    steps = {s.name: s for s in job.steps.all()}
    assert steps["connections"].output["waiting_for"] == ["erp"]
    assert {steps[name].status for name in PROVISION_STEPS[1:]} == {StepStatus.SKIPPED}
    tenant.refresh_from_db()
    assert tenant.status == TenantStatus.AWAITING_CREDENTIALS
    assert world.clones(tenant) == []


def test_a_settings_change_reaches_the_flows_schedules(world):
    tenant = world.tenant("Acme")
    [job] = world.wait(provision(tenant))
    assert job.status == JobStatus.SUCCEEDED, job.error_message
    tenant.refresh_from_db()

    outcome = tenant_settings_update(
        tenant=tenant, requested_by=JobOrigin.API, settings_patch={"sync_interval_minutes": 120}
    )
    [job] = world.wait(outcome.job)

    assert job.kind == JobKind.UPDATE_SETTINGS
    assert job.status == JobStatus.SUCCEEDED, job.error_message
    [clone] = world.clones(tenant)
    flows = [f for f in world.objects("flows") if f["_integrationId"] == clone["_id"]]
    assert {f["schedule"] for f in flows} == {"? 0 */2 * * *"}
    assert clone["settings"]["pollIntervalMinutes"] == 120


def test_it_fails_readably_on_a_permanent_error_and_can_be_retried(world):
    template_source_set(world.template, "5eed0000000000000000dead")
    tenant = world.tenant("Missing template")
    [job] = world.wait(provision(tenant))

    assert job.status == JobStatus.FAILED
    assert job.error_code == "template_missing"
    assert "5eed0000000000000000dead" in job.error_message
    assert job.attempts == 1  # permanent: no retries
    tenant.refresh_from_db()
    assert tenant.status == TenantStatus.FAILED
    assert tenant.last_error == job.error_message
    failed = job.steps.get(name="clone")
    assert failed.status == StepStatus.FAILED
    assert failed.error_code == "template_missing"

    template_source_set(world.template, world.seed["integrationId"])
    [job] = world.wait(job_retry(job=job, requested_by=JobOrigin.ADMIN))

    assert job.status == JobStatus.SUCCEEDED
    # Resumed at the failed step: the connections step did not run again.
    assert job.steps.get(name="connections").attempts == 1
    assert job.steps.get(name="clone").attempts == 2
    tenant.refresh_from_db()
    assert tenant.status == TenantStatus.ACTIVE
    assert len(world.clones(tenant)) == 1
