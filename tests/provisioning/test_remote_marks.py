"""The marks a tenant's integration and connections carry in integrator.io, and the rule that
a job only ever adopts, changes or deletes what carries this deployment's mark for its tenant
(core.remote_marks, provisioning.ownership)."""

from core.deployment import deployment_identity
from core.remote_marks import legacy_integration_tag
from provisioning.models import JobKind, JobOrigin, JobStatus, JobStep, StepStatus
from provisioning.services import job_request
from tenants.models import TenantStatus

OTHER_DEPLOYMENT = "zz00other0"


def request(tenant, kind=JobKind.PROVISION):
    return job_request(tenant=tenant, kind=kind, requested_by=JobOrigin.API)


def integration(world, integration_id):
    return next(i for i in world.objects("integrations") if i["_id"] == integration_id)


def test_every_clone_carries_the_deployment_and_the_tenant(world):
    tenant = world.tenant("Marked")
    [job] = world.wait(request(tenant))
    assert job.status == JobStatus.SUCCEEDED, job.error_message
    tenant.refresh_from_db()

    clone = integration(world, tenant.integration_id)
    assert clone["tag"] == f"embedded:{deployment_identity()}:{tenant.uid}:shop-to-erp"
    assert clone["name"].endswith(f" [{deployment_identity()}/{tenant.uid}]")
    assert str(tenant.pk) not in clone["tag"].split(":")


def test_it_sets_the_tag_when_the_clone_does_not_keep_it(world):
    world.sandbox.control.configure(clone_keeps_tag=False)
    tenant = world.tenant("Untagged")
    [job] = world.wait(request(tenant))

    assert job.status == JobStatus.SUCCEEDED, job.error_message
    tenant.refresh_from_db()
    assert integration(world, tenant.integration_id)["tag"] == world.tag(tenant)
    assert job.steps.get(name="settings").output["retagged"] is True


def test_it_finds_an_untagged_clone_by_its_name_after_a_lost_answer(world):
    world.sandbox.control.configure(clone_keeps_tag=False)
    world.sandbox.control.inject_fault("commit_then_drop", path="/v1/integrations/*/clone", times=1)
    tenant = world.tenant("Lost and untagged")
    [job] = world.wait(request(tenant), timeout=40)

    assert job.status == JobStatus.SUCCEEDED, job.error_message
    assert job.steps.get(name="clone").output["how"] == "adopted"
    assert len(world.clones(tenant)) == 1
    tenant.refresh_from_db()
    assert integration(world, tenant.integration_id)["tag"] == world.tag(tenant)


def test_it_adopts_and_re_marks_a_clone_whose_intent_was_recorded_with_a_legacy_tag(world):
    """An upgrade caught a provision between its clone and the commit of the clone's id: the
    intent and the clone carry the tag of before deployments had an identity."""
    tenant = world.tenant("Legacy intent")
    legacy = legacy_integration_tag(tenant_pk=tenant.pk, template_key=world.template.key)
    clone = world.client.clone_integration(
        world.seed["integrationId"],
        connection_map=connection_map(world, tenant),
        extra={"tag": legacy},
    )
    job = request(tenant)
    JobStep.objects.filter(job__tenant=tenant, name="clone").update(
        output={"tag": legacy, "clone_posted": True}
    )
    [job] = world.wait(job)

    assert job.status == JobStatus.SUCCEEDED, job.error_message
    tenant.refresh_from_db()
    assert tenant.integration_id == clone.integration_id
    assert len(world.objects("integrations")) == 2, "the template and the one clone"
    assert integration(world, clone.integration_id)["tag"] == world.tag(tenant)


def test_it_leaves_another_deployments_integration_alone(world):
    """The tenant's record points at an integration marked by another deployment (a restored
    database that was rekeyed): a repair refuses to touch it, a deprovision skips it."""
    tenant = world.tenant("Pointed elsewhere")
    world.wait(request(tenant))
    tenant.refresh_from_db()
    foreign = world.client.clone_integration(
        world.seed["integrationId"],
        connection_map=connection_map(world, tenant),
        extra={"tag": f"embedded:{OTHER_DEPLOYMENT}:{tenant.uid}:shop-to-erp"},
    )
    before = integration(world, foreign.integration_id)
    tenant.integration_id = foreign.integration_id
    tenant.save(update_fields=["integration_id"])

    [repair] = world.wait(request(tenant, JobKind.REPAIR))
    assert repair.status == JobStatus.FAILED
    assert repair.error_code == "integration_not_ours"
    assert OTHER_DEPLOYMENT in repair.error_message

    tenant.refresh_from_db()
    [deprovision] = world.wait(request(tenant, JobKind.DEPROVISION))
    assert deprovision.status == JobStatus.SUCCEEDED, deprovision.error_message
    skipped = deprovision.steps.get(name="disable_flows").output["skipped"]
    assert [s["id"] for s in skipped] == [foreign.integration_id]
    assert integration(world, foreign.integration_id) == before, "not changed, not deleted"
    flows = [f for f in world.objects("flows") if f["_integrationId"] == foreign.integration_id]
    assert len(flows) == 3
    tenant.refresh_from_db()
    assert tenant.status == TenantStatus.DEPROVISIONED
    assert all(s.status == StepStatus.SUCCEEDED for s in deprovision.steps.all())


def connection_map(world, tenant):
    rows = {c.slot_key: c.connection_id for c in tenant.connections.all()}
    return {slot["template_connection_id"]: rows[slot["key"]] for slot in world.template.slots}
