"""Moving tenants between versions of their template: observe, plan, apply, with a real worker
and the sandbox. The template integration evolves in integrator.io (a new flow, a changed
export field); each version's snapshot records what it held when published."""

import io
from collections import Counter

from django.core.management import call_command

from provisioning.desired_states import tenant_connection_map, tenant_desired_state
from provisioning.models import ApiCall, JobKind, JobOrigin, JobStatus
from provisioning.reconcile.observe import observe
from provisioning.reconcile.planner import plan
from provisioning.services import job_request, tenant_settings_update
from provisioning.services.plans import tenant_plan_preview
from rollouts.estimates import rollout_cost_estimate
from tenants.models import TemplateVersion, Tenant
from tests.fixtures.template_versions import ORDERS_EXPORT, evolve_template, publish


def upgrade(world, tenant, to):
    job = job_request(
        tenant=tenant, kind=JobKind.UPGRADE, requested_by=JobOrigin.API, target_version=to
    )
    [job] = world.wait(job)
    return job


def tenant_flows(world, tenant) -> dict:
    tenant.refresh_from_db()
    return {
        f["_sourceId"]: f
        for f in world.objects("flows")
        if f["_integrationId"] == tenant.integration_id
    }


def tenant_export(world, tenant, source_id) -> dict:
    [found] = [
        e
        for e in world.objects("exports")
        if e["_integrationId"] == tenant.integration_id and e.get("_sourceId") == source_id
    ]
    return found


def remaining_plan(world, tenant, version):
    tenant.refresh_from_db()
    desired = tenant_desired_state(
        tenant=tenant,
        version=version,
        connection_map=tenant_connection_map(tenant=tenant, version=version),
    )
    return plan(desired, observe(world.client, tenant.integration_id))


def test_a_tenant_moves_to_the_new_version_and_back(world, versions):
    first = versions
    tenant = world.tenant("Acme")
    [job] = world.wait(
        job_request(tenant=tenant, kind=JobKind.PROVISION, requested_by=JobOrigin.API)
    )
    assert job.status == JobStatus.SUCCEEDED, job.error_message
    refunds = evolve_template(world)
    second = publish(world, "1.1.0")
    tenant.refresh_from_db()
    estimate = rollout_cost_estimate(tenant, second)
    # The tenant plan for the same move estimates the same (one estimate, two callers).
    preview = tenant_plan_preview(tenant=tenant, version="1.1.0")
    assert len(preview.changes) == estimate["changes"]
    assert Counter(type(c).__name__ for c in preview.changes) == estimate["by_kind"]
    assert preview.api_calls == estimate["api_calls"]

    job = upgrade(world, tenant, second)

    assert job.status == JobStatus.SUCCEEDED, job.error_message
    tenant.refresh_from_db()
    assert tenant.template_version == second
    flows = tenant_flows(world, tenant)
    assert set(flows) == {*first_flow_ids(first), refunds}
    # The new flow runs like the others: enabled (no switch turns it off), on the schedule.
    assert flows[refunds]["disabled"] is False
    assert flows[refunds]["schedule"] == "? */15 * * * *"
    orders = tenant_export(world, tenant, ORDERS_EXPORT)
    assert orders["http"]["relativeURI"] == "/orders?status=paid,processing"
    own = set(tenant.connections.values_list("connection_id", flat=True))
    new_steps = [
        s
        for collection in ("exports", "imports")
        for s in world.objects(collection)
        if s["_integrationId"] == tenant.integration_id and s["_id"] in steps_of(flows[refunds])
    ]
    assert len(new_steps) == 2 and {s["_connectionId"] for s in new_steps} <= own
    assert remaining_plan(world, tenant, second) == ()
    step = job.steps.get(name="reconcile")
    assert {c["change"] for c in step.output["changes"]} >= {"AddFlow", "UpdateStep"}
    assert ApiCall.objects.filter(job=job, method="POST").count() == 1  # one flow clone
    # A rollout's dry run said exactly what the job did: its changes, and every call it made
    # (the writes and the reads of each round).
    assert estimate["changes"] == step.output["changes_count"]
    assert estimate["api_calls"] == ApiCall.objects.filter(job=job).count()

    job = upgrade(world, tenant, first)

    assert job.status == JobStatus.SUCCEEDED, job.error_message
    tenant.refresh_from_db()
    assert tenant.template_version == first
    assert set(tenant_flows(world, tenant)) == set(first_flow_ids(first))
    assert tenant_export(world, tenant, ORDERS_EXPORT)["http"]["relativeURI"] == "/orders"
    leftovers = [
        s
        for collection in ("exports", "imports")
        for s in world.objects(collection)
        if s["_integrationId"] == tenant.integration_id
    ]
    assert len(leftovers) == 6  # the refunds flow's export and import went with it
    assert remaining_plan(world, tenant, first) == ()


def test_a_version_without_a_snapshot_changes_nothing(world):
    tenant = world.tenant("Acme")
    [job] = world.wait(
        job_request(tenant=tenant, kind=JobKind.PROVISION, requested_by=JobOrigin.API)
    )
    bare = TemplateVersion.objects.create(
        template=world.template,
        version="2.0.0",
        source_integration_id=world.seed["integrationId"],
        slots=world.template.slots,
        settings_schema=world.template.settings_schema,
        digest="bare",
    )
    before = tenant_flows(world, tenant)

    job = upgrade(world, tenant, bare)

    assert job.status == JobStatus.FAILED
    assert job.error_code == "version_without_snapshot"
    assert "Publish the template again as a new version" in job.error_message
    assert tenant_flows(world, tenant) == before
    tenant.refresh_from_db()
    assert tenant.template_version.version == "1.0.0"


def first_flow_ids(version) -> set[str]:
    return {flow["_id"] for flow in version.snapshot["flows"]}


def steps_of(flow: dict) -> set[str]:
    ids = {g["_exportId"] for g in flow.get("pageGenerators") or []}
    for processor in flow.get("pageProcessors") or []:
        ids.add(processor.get("_importId") or processor.get("_exportId"))
    return ids


def test_the_plan_shows_what_an_upgrade_would_change_and_changes_nothing(world, versions, live_api):
    tenant = world.tenant("Acme")
    world.wait(job_request(tenant=tenant, kind=JobKind.PROVISION, requested_by=JobOrigin.API))
    evolve_template(world)
    publish(world, "1.1.0")
    url = f"/api/v1/tenants/{tenant.external_id}/plan"
    before = world.sandbox.control.counts()

    own = live_api.get(url)
    upgrade_plan = live_api.get(url, {"version": "1.1.0"})

    assert own.status_code == 200, own.json()
    assert own.json()["changes"] == [] and own.json()["version"] == "1.0.0"
    assert upgrade_plan.status_code == 200, upgrade_plan.json()
    body = upgrade_plan.json()
    kinds = [change["change"] for change in body["changes"]]
    assert kinds[0] == "AddFlow" and "UpdateStep" in kinds
    assert body["api_calls"] >= len(kinds)
    [added] = [c for c in body["changes"] if c["change"] == "AddFlow"]
    assert "Shop refunds to ERP credit memos" in added["reason"]
    assert world.sandbox.control.counts() == before
    assert live_api.get(url, {"version": "9.9.9"}).status_code == 404
    assert live_api.get(url, {"version": ""}).status_code == 400


def test_a_credential_put_in_an_export_by_hand_is_masked_in_its_plan_and_drift(
    world, versions, live_api
):
    # integrator.io masks only its own secret fields: a header's value, or a key in an HTTP
    # export's query string, comes back in clear; the plan and the drift report show that
    # the export differs, and where, without the credential.
    tenant = world.tenant("Acme")
    world.wait(job_request(tenant=tenant, kind=JobKind.PROVISION, requested_by=JobOrigin.API))
    tenant.refresh_from_db()
    export = tenant_export(world, tenant, ORDERS_EXPORT)
    body = {k: v for k, v in export.items() if k not in ("_id", "createdAt", "lastModified")}
    body["http"] = {
        **export["http"],
        "relativeURI": "/orders?status=paid&api_key=qs-S3CRET-1&page={{{page}}}",
        "headers": [
            {"name": "Authorization", "value": "Bearer hdr-S3CRET-2"},
            {"name": "X-Api-Key", "value": "hdr-S3CRET-3"},
            {"name": "Accept", "value": "application/json"},
        ],
    }
    world.client.update_export(export["_id"], body)

    plan_answer = live_api.get(f"/api/v1/tenants/{tenant.external_id}/plan")
    call_command("check_drift", tenant=tenant.external_id, stdout=io.StringIO())
    drift_answer = live_api.get(f"/api/v1/tenants/{tenant.external_id}/drift")

    for answer in (plan_answer, drift_answer):
        assert answer.status_code == 200, answer.json()
        assert "S3CRET" not in answer.content.decode()
        [change] = answer.json()["changes"]
        [[field, before, after]] = change["diff"]
        assert field == "http" and after["relativeURI"] == export["http"]["relativeURI"]
        assert before["relativeURI"] == "/orders?status=paid&api_key=******&page={{{page}}}"
        assert before["headers"] == [
            {"name": "Authorization", "value": "******"},
            {"name": "X-Api-Key", "value": "******"},
            {"name": "Accept", "value": "application/json"},
        ]


def test_a_plan_integrator_io_refuses_is_a_422_with_its_answer_not_a_503(world, versions, live_api):
    # integrator.io answered (a 422): retrying gets the same answer, so this is no outage with
    # Retry-After, and the answer is in `remote` for the developer to act on.
    tenant = world.tenant("Acme")
    world.wait(job_request(tenant=tenant, kind=JobKind.PROVISION, requested_by=JobOrigin.API))
    tenant.refresh_from_db()
    world.sandbox.control.inject_fault(
        "error", status=422, path=f"/v1/integrations/{tenant.integration_id}", times=1
    )

    response = live_api.get(f"/api/v1/tenants/{tenant.external_id}/plan")

    assert response.status_code == 422, response.json()
    error = response.json()["error"]
    assert error["code"] == "integrator_refused"
    assert "no plan was made" in error["message"]
    assert error["remote"]["status"] == 422
    assert "Retry-After" not in response


def test_a_setting_mapped_into_an_export_reaches_it_and_follows_changes(world, versions):
    step_mapped = TemplateVersion.objects.create(
        template=world.template,
        version="1.0.1",
        source_integration_id=versions.source_integration_id,
        slots=versions.slots,
        settings_schema=versions.settings_schema,
        settings_mapping=[
            *versions.settings_mapping,
            {
                "setting": "order_statuses",
                "to": "step",
                "step": ORDERS_EXPORT,
                "pointer": "/http/relativeURI",
                "format": "/orders?status={}",
            },
        ],
        snapshot=versions.snapshot,
        digest="1.0.1",
    )
    tenant = world.tenant("Acme")
    Tenant.objects.filter(pk=tenant.pk).update(template_version=step_mapped)
    [job] = world.wait(
        job_request(tenant=tenant, kind=JobKind.PROVISION, requested_by=JobOrigin.API)
    )
    assert job.status == JobStatus.SUCCEEDED, job.error_message
    tenant.refresh_from_db()
    assert tenant_export(world, tenant, ORDERS_EXPORT)["http"]["relativeURI"] == (
        "/orders?status=paid"
    )

    outcome = tenant_settings_update(
        tenant=tenant,
        requested_by=JobOrigin.API,
        settings_patch={"order_statuses": ["paid", "shipped"]},
    )
    [job] = world.wait(outcome.job)

    assert job.status == JobStatus.SUCCEEDED, job.error_message
    assert tenant_export(world, tenant, ORDERS_EXPORT)["http"]["relativeURI"] == (
        "/orders?status=paid,shipped"
    )


def test_an_upgrade_whose_connection_was_deleted_says_which_and_how_to_fix_it(world, versions):
    """A slot's connection deleted in integrator.io (and not entered again) cannot be used by
    the new version's steps: the job names the slot and the remedy, rather than integrator.io's
    400 about a connectionMap."""
    tenant = world.tenant("Acme")
    [job] = world.wait(
        job_request(tenant=tenant, kind=JobKind.PROVISION, requested_by=JobOrigin.API)
    )
    assert job.status == JobStatus.SUCCEEDED, job.error_message
    evolve_template(world)
    second = publish(world, "1.1.0")
    erp = tenant.connections.get(slot_key="erp")
    world.client.delete_connection(erp.connection_id)

    job = upgrade(world, tenant, second)

    assert job.status == JobStatus.FAILED
    assert job.error_code == "connection_deleted"
    assert job.error_message == (
        "The connection of ERP no longer exists in integrator.io (deleted there), and version "
        "1.1.0 needs it. Enter its credentials again (the credential form, or PUT "
        f"/api/v1/tenants/{tenant.external_id}/connections/erp), which makes a new connection "
        "and moves the integration to it; then ask for the upgrade again."
    )
    tenant.refresh_from_db()
    assert tenant.template_version != second
