"""Orphans: what this deployment made in integrator.io and no tenant owns, recorded once,
listed, announced, and resolved by a person (delete remotely, or adopt into a tenant)."""

import pytest

from core.remote_marks import connection_external_id, integration_name, integration_tag
from provisioning.models import JobKind, JobStatus, Orphan, OrphanKind, OrphanStatus
from provisioning.orphan_scan import orphans_scan
from provisioning.services import job_request
from tenants.models import TenantStatus
from webhooks.models import Event, EventType

NOBODY = "nobody000000"  # a tenant uid no tenant has


@pytest.fixture
def scan(world, settings):
    settings.ORPHANS_GRACE_SECONDS = 0
    return lambda: orphans_scan(client=world.client)


def provisioned(world, name):
    tenant = world.tenant(name)
    [job] = world.wait(job_request(tenant=tenant, kind=JobKind.PROVISION, requested_by="api"))
    assert job.status == JobStatus.SUCCEEDED, job.error_message
    tenant.refresh_from_db()
    return tenant


def clone(world, *, tenant_uid, name="Lost clone", connections=None):
    """A clone of the demo template marked for `tenant_uid`, as a lost job would leave it."""
    manifest = world.client.clone_integration(
        world.seed["integrationId"],
        name=name,
        connection_map=connections,
        extra={"tag": integration_tag(tenant_uid=tenant_uid, template_key="shop-to-erp")},
    )
    return manifest.integration_id


def test_it_records_each_orphan_once_and_announces_it(world, scan):
    owner = provisioned(world, "Owner")
    nobodys = clone(world, tenant_uid=NOBODY)
    duplicate = clone(world, tenant_uid=owner.uid)
    world.client.clone_integration(world.seed["integrationId"], extra={"tag": "someone-else"})
    foreign = "embedded:zz00other0:" + owner.uid + ":shop-to-erp"
    world.client.clone_integration(world.seed["integrationId"], extra={"tag": foreign})

    first = scan()
    second = scan()

    orphans = {o.remote_id: o for o in Orphan.objects.all()}
    assert set(orphans) == {nobodys, duplicate}, "the tenant's own and others' are not orphans"
    assert orphans[nobodys].kind == OrphanKind.INTEGRATION
    assert orphans[duplicate].kind == OrphanKind.DUPLICATE_INTEGRATION
    assert orphans[duplicate].tenant == owner
    assert (first.new, second.new) == (2, 0)
    assert orphans[nobodys].last_seen_at > orphans[nobodys].first_seen_at
    events = Event.objects.filter(event_type=EventType.ORPHAN_FOUND)
    assert sorted(e.data["remote_id"] for e in events) == sorted([nobodys, duplicate])


def test_it_reports_connections_no_tenant_uses(world, scan):
    owner = provisioned(world, "Connected")
    body = {
        "type": "http",
        "name": "left over",
        "externalId": connection_external_id(tenant_uid=owner.uid, slot_key="shop"),
        "http": {
            "baseURI": world.sandbox.demo_url("shop"),
            "mediaType": "json",
            "auth": {"type": "token", "token": {"token": "x", "location": "header"}},
        },
    }
    leftover = world.client.create_connection(body).id

    scan()

    [orphan] = Orphan.objects.all()
    assert (orphan.kind, orphan.remote_id, orphan.tenant) == (
        OrphanKind.CONNECTION,
        leftover,
        owner,
    )


def test_it_closes_an_orphan_that_went_away(world, scan):
    nobodys = clone(world, tenant_uid=NOBODY)
    scan()
    world.client.delete_integration(nobodys)
    report = scan()
    assert report.gone == 1
    assert Orphan.objects.get(remote_id=nobodys).status == OrphanStatus.GONE


def test_it_waits_before_reporting_what_a_job_may_be_about_to_commit(world, settings):
    clone(world, tenant_uid=NOBODY)
    settings.ORPHANS_GRACE_SECONDS = 600
    assert orphans_scan(client=world.client).found == []
    assert not Orphan.objects.exists()


def test_orphans_are_listed_and_deleted_remotely_through_the_api(world, scan, live_api):
    nobodys = clone(world, tenant_uid=NOBODY)
    scan()
    listed = live_api.get("/api/v1/orphans/?status=open").json()["results"]
    assert [(o["remote_id"], o["kind"]) for o in listed] == [(nobodys, "integration")]

    response = live_api.post(f"/api/v1/orphans/{listed[0]['id']}/delete")

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "deleted"
    assert "API key host app" in response.json()["resolution"]
    for collection in ("integrations", "flows", "exports", "imports"):
        assert not [
            d for d in world.objects(collection) if nobodys in (d["_id"], d.get("_integrationId"))
        ], collection
    again = live_api.post(f"/api/v1/orphans/{listed[0]['id']}/delete")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "orphan_not_actionable"


def test_an_orphaned_integration_is_adopted_into_a_tenant_without_one(world, scan, live_api):
    tenant = world.tenant("Adopter")  # connections work, no integration yet
    rows = {c.slot_key: c.connection_id for c in tenant.connections.all()}
    connections = {s["template_connection_id"]: rows[s["key"]] for s in world.template.slots}
    nobodys = clone(world, tenant_uid=NOBODY, connections=connections)
    scan()
    orphan = Orphan.objects.get(remote_id=nobodys)

    response = live_api.post(
        f"/api/v1/orphans/{orphan.pk}/adopt", {"tenant": tenant.external_id}, format="json"
    )

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "adopted"
    tenant.refresh_from_db()
    assert tenant.integration_id == nobodys
    [job] = world.wait(list(tenant.jobs.all()))
    assert job.status == JobStatus.SUCCEEDED, job.error_message
    assert job.steps.get(name="clone").output["how"] == "known"
    tenant.refresh_from_db()
    assert tenant.status == TenantStatus.ACTIVE
    adopted = next(i for i in world.objects("integrations") if i["_id"] == nobodys)
    assert adopted["tag"] == world.tag(tenant)
    assert adopted["name"] == integration_name(
        template_name=world.template.name, tenant_name=tenant.name, tenant_uid=tenant.uid
    )
    assert len(world.objects("integrations")) == 2, "the template and the adopted one"


def test_an_orphan_is_not_adopted_into_a_tenant_that_has_an_integration(world, scan, live_api):
    owner = provisioned(world, "Busy")
    nobodys = clone(world, tenant_uid=NOBODY)
    scan()
    orphan = Orphan.objects.get(remote_id=nobodys)
    response = live_api.post(
        f"/api/v1/orphans/{orphan.pk}/adopt", {"tenant": owner.external_id}, format="json"
    )
    assert response.status_code == 409
    assert owner.integration_id in response.json()["error"]["message"]
    assert Orphan.objects.get(pk=orphan.pk).status == OrphanStatus.OPEN


def test_nothing_is_deleted_unless_the_setting_says_so(world, scan, settings):
    nobodys = clone(world, tenant_uid=NOBODY)
    scan()
    assert any(i["_id"] == nobodys for i in world.objects("integrations"))

    settings.ORPHANS_AUTO_DELETE = True
    report = scan()
    assert report.auto_deleted == 1
    assert not any(i["_id"] == nobodys for i in world.objects("integrations"))
    assert Orphan.objects.get(remote_id=nobodys).status == OrphanStatus.DELETED


def test_it_re_marks_legacy_resources_a_tenant_has_committed(world, scan):
    tenant = provisioned(world, "Legacy")
    legacy_tag = f"embedded:t{tenant.pk}:shop-to-erp"
    world.client.modify_integration(tenant.integration_id, lambda d: d.update(tag=legacy_tag))
    shop = tenant.connections.get(slot_key="shop").connection_id
    world.client.patch_connection(
        shop,
        [{"op": "replace", "path": "/externalId", "value": f"embedded:tenant-{tenant.pk}:shop"}],
    )

    report = scan()

    assert report.remarked == 2
    assert next(i for i in world.objects("integrations") if i["_id"] == tenant.integration_id)[
        "tag"
    ] == world.tag(tenant)
    connection = next(c for c in world.objects("connections") if c["_id"] == shop)
    assert connection["externalId"] == connection_external_id(
        tenant_uid=tenant.uid, slot_key="shop"
    )
    assert not Orphan.objects.exists()


def test_the_admin_lists_orphans_and_deletes_them_remotely(world, scan, admin_client):
    nobodys = clone(world, tenant_uid=NOBODY)
    scan()
    orphan = Orphan.objects.get()
    page = admin_client.get("/admin/provisioning/orphan/")
    assert nobodys in page.content.decode()

    response = admin_client.post(
        "/admin/provisioning/orphan/",
        {"action": "delete_remotely", "_selected_action": [str(orphan.pk)]},
        follow=True,
    )

    assert response.status_code == 200
    assert Orphan.objects.get().status == OrphanStatus.DELETED
    assert not any(i["_id"] == nobodys for i in world.objects("integrations"))


def test_an_orphaned_connection_fills_an_empty_slot_of_a_tenant(world, scan, live_api):
    tenant = world.tenant("Half connected", ready=False)
    body = {
        "type": "http",
        "name": "left over",
        "externalId": connection_external_id(tenant_uid=NOBODY, slot_key="shop"),
        "http": {
            "baseURI": world.sandbox.demo_url("shop"),
            "mediaType": "json",
            "ping": {"relativeURI": "/ping", "method": "GET"},
            "auth": {
                "type": "token",
                "token": {"token": world.sandbox.demo_keys["shop"], "location": "header"},
            },
        },
    }
    leftover = world.client.create_connection(body).id
    scan()
    orphan = Orphan.objects.get(remote_id=leftover)

    response = live_api.post(
        f"/api/v1/orphans/{orphan.pk}/adopt", {"tenant": tenant.external_id}, format="json"
    )

    assert response.status_code == 200, response.json()
    row = tenant.connections.get(slot_key="shop")
    assert (row.connection_id, row.status) == (leftover, "ok")
    remote = next(c for c in world.objects("connections") if c["_id"] == leftover)
    assert remote["externalId"] == connection_external_id(tenant_uid=tenant.uid, slot_key="shop")
    assert tenant.status == TenantStatus.AWAITING_CREDENTIALS, "erp is still missing"
