"""Orphans: what this deployment made in integrator.io and no tenant owns, recorded once,
listed, announced, and resolved by a person (delete remotely, or adopt into a tenant); every
integrator.io account scanned on its own, each orphan acted on in its own account."""

import dataclasses
import uuid

import pytest

from core.accounts import integrator_account_default, integrator_account_save
from core.models import IntegratorAccount
from core.remote_marks import connection_external_id, integration_name, integration_tag
from integrator.client import IntegratorClient
from provisioning.models import JobKind, JobStatus, Orphan, OrphanKind, OrphanStatus
from provisioning.orphan_scan import orphans_scan
from provisioning.services import job_request
from provisioning.tasks import orphans_scan_task
from tenants.models import CallPurpose, TenantStatus
from tests.fixtures.world import integrator_calm
from webhooks.models import Event, EventType

NOBODY = "nobody000000"  # a tenant uid no tenant has


@pytest.fixture
def scan(world, settings):
    settings.ORPHANS_GRACE_SECONDS = 0
    return lambda: orphans_scan(client=world.client, account=integrator_account_default())


@dataclasses.dataclass
class SecondAccount:
    account: IntegratorAccount
    token: str
    seed: dict
    client: IntegratorClient
    control: object

    def objects(self, collection: str) -> list[dict]:
        return self.control.objects(collection, account=self.token)["objects"][collection]


@pytest.fixture
def eu(world, settings):
    """A second account, of its own in the sandbox's EU region (its own token and objects),
    seeded with the demo template, and its record here."""
    token = f"eu-{uuid.uuid4().hex}"
    world.sandbox.control.add_account(token, region="eu")
    seed = world.sandbox.control.seed(account=token)
    settings.INTEGRATOR_EU_API_URL = world.sandbox.eu_api_url
    settings.ORPHANS_GRACE_SECONDS = 0
    account = integrator_account_save(key="eu-main", name="EU", region="eu", token=token)
    client = IntegratorClient(world.sandbox.eu_api_url, token, timeout=5)
    yield SecondAccount(account, token, seed, client, world.sandbox.control)
    client.close()
    integrator_calm()


def eu_clone(eu, *, tenant_uid, name="Lost clone"):
    """A clone of the demo template in the second account, marked for `tenant_uid`."""
    return eu.client.clone_integration(
        eu.seed["integrationId"],
        name=name,
        extra={"tag": integration_tag(tenant_uid=tenant_uid, template_key="shop-to-erp")},
    ).integration_id


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
    assert orphans_scan(client=world.client, account=integrator_account_default()).found == []
    assert not Orphan.objects.exists()


def test_orphans_are_listed_and_deleted_remotely_through_the_api(world, scan, live_api):
    nobodys = clone(world, tenant_uid=NOBODY)
    scan()
    listed = live_api.get("/api/v1/orphans/?status=open").json()["results"]
    assert [(o["remote_id"], o["kind"]) for o in listed] == [(nobodys, "integration")]
    assert listed[0]["tenant"] is None  # no tenant of its mark, and said so (not left out)

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


def test_a_tenant_or_slot_named_in_the_adoption_body_that_does_not_exist_is_a_bad_field(
    world, scan, live_api
):
    # The body names them, so a 400 naming the field; the operation's 404 is its path's
    # orphan (README, "API conventions").
    tenant = world.tenant("Adopter", ready=False)
    nobodys = clone(world, tenant_uid=NOBODY)
    scan()
    orphan = Orphan.objects.get(remote_id=nobodys)
    path = f"/api/v1/orphans/{orphan.pk}/adopt"

    unknown_tenant = live_api.post(path, {"tenant": "no-such-tenant"}, format="json")
    leftover = world.client.create_connection(
        {
            "type": "http",
            "name": "left over",
            "externalId": connection_external_id(tenant_uid=NOBODY, slot_key="shop"),
            "http": {"baseURI": world.sandbox.demo_url("shop"), "mediaType": "json"},
        }
    ).id
    scan()
    connection_orphan = Orphan.objects.get(remote_id=leftover)
    unknown_slot = live_api.post(
        f"/api/v1/orphans/{connection_orphan.pk}/adopt",
        {"tenant": tenant.external_id, "slot": "crm"},
        format="json",
    )

    assert unknown_tenant.status_code == 400, unknown_tenant.json()
    error = unknown_tenant.json()["error"]
    assert error["code"] == "invalid_fields"
    assert error["fields"] == {"tenant": ["No tenant with this external_id."]}
    assert unknown_slot.status_code == 400, unknown_slot.json()
    error = unknown_slot.json()["error"]
    assert error["code"] == "invalid_fields"
    assert error["fields"] == {"slot": ["Not a slot of shop-to-erp."]}
    assert Orphan.objects.get(pk=orphan.pk).status == OrphanStatus.OPEN
    assert Orphan.objects.get(pk=connection_orphan.pk).status == OrphanStatus.OPEN


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

    selected = {"action": "delete_remotely", "_selected_action": [str(orphan.pk)]}
    # Asks first, naming what it deletes, as deprovisioning does: it cannot be undone.
    confirmation = admin_client.post("/admin/provisioning/orphan/", selected)
    asked = confirmation.content.decode()
    assert Orphan.objects.get().status == OrphanStatus.OPEN
    assert "cannot be undone" in asked and nobodys in asked
    assert 'name="post" value="yes"' in asked

    response = admin_client.post(
        "/admin/provisioning/orphan/", {**selected, "post": "yes"}, follow=True
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


def test_an_adopted_connection_whose_app_repeats_the_refused_key_keeps_it_masked(
    world, scan, live_api
):
    # As a connection check's (runs.checks): the service knows no secret of a connection it
    # did not make, and the app's refusal may repeat it.
    tenant = world.tenant("Half connected", ready=False)
    leftover = world.client.create_connection(
        {
            "type": "http",
            "name": "left over",
            "externalId": connection_external_id(tenant_uid=NOBODY, slot_key="shop"),
            "http": {
                "baseURI": world.sandbox.demo_url("shop"),
                "mediaType": "json",
                "ping": {"relativeURI": "/ping", "method": "GET"},
                "auth": {"type": "token", "token": {"token": "x", "location": "header"}},
            },
        }
    ).id
    world.sandbox.control.force_ping_outcome(
        leftover, ok=False, code=401, message="invalid key: Bearer sk-Live-9f8e7d6c5b4a3"
    )
    scan()
    orphan = Orphan.objects.get(remote_id=leftover)

    response = live_api.post(
        f"/api/v1/orphans/{orphan.pk}/adopt", {"tenant": tenant.external_id}, format="json"
    )

    assert response.status_code == 200, response.json()
    row = tenant.connections.get(slot_key="shop")
    assert (row.status, row.last_ping_error) == ("failed", "invalid key: Bearer [REDACTED]")


def test_every_account_is_scanned_and_its_orphans_recorded_with_it(
    world, eu, live_api, admin_client
):
    default_orphan = clone(world, tenant_uid=NOBODY)
    eu_orphan = eu_clone(eu, tenant_uid=NOBODY)
    # A clone marked for a tenant of the default account, in the second account: never the
    # tenant's (its jobs look in its own account), though it has no integration yet.
    tenant = world.tenant("Lives on default")
    elsewhere = eu_clone(eu, tenant_uid=tenant.uid)

    report = orphans_scan_task()

    assert report["default"]["new"] == 1
    assert report["eu-main"]["new"] == 2
    orphans = {o.remote_id: o for o in Orphan.objects.select_related("account")}
    assert set(orphans) == {default_orphan, eu_orphan, elsewhere}
    assert orphans[default_orphan].account == integrator_account_default()
    assert orphans[eu_orphan].account == eu.account
    assert (orphans[elsewhere].account, orphans[elsewhere].kind) == (
        eu.account,
        OrphanKind.DUPLICATE_INTEGRATION,
    )
    assert orphans[elsewhere].tenant == tenant
    assert orphans[elsewhere].reason == "Its tenant lives on integrator.io account 'default'."
    found = Event.objects.get(event_type=EventType.ORPHAN_FOUND, data__remote_id=eu_orphan)
    assert found.data["account"] == "eu-main"

    listed = live_api.get("/api/v1/orphans/").json()["results"]
    assert {o["remote_id"]: o["account"] for o in listed} == {
        default_orphan: "default",
        eu_orphan: "eu-main",
        elsewhere: "eu-main",
    }
    assert eu.token not in str(listed)
    in_eu = live_api.get("/api/v1/orphans/?account=eu-main").json()["results"]
    assert {o["remote_id"] for o in in_eu} == {eu_orphan, elsewhere}
    assert live_api.get("/api/v1/orphans/?account=nowhere").json()["results"] == []
    page = admin_client.get(f"/admin/provisioning/orphan/?account__id__exact={eu.account.pk}")
    html = page.content.decode()
    assert eu_orphan in html and "eu-main" in html and default_orphan not in html
    assert eu.token not in html


def test_one_account_failing_does_not_stop_the_others_scan(world, eu):
    integrator_account_save(key="no-token", name="Not set up", region="us")
    integrator_account_save(
        key="refused",
        name="Bad token",
        region="us",
        api_url=world.sandbox.api_url,
        token="not-a-token-the-sandbox-knows",
    )
    eu_orphan = eu_clone(eu, tenant_uid=NOBODY)

    report = orphans_scan_task()

    assert "no API token" in report["no-token"]["error"]
    assert "error" in report["refused"]
    assert report["eu-main"]["new"] == 1
    assert report["default"]["open"] == 0
    assert Orphan.objects.get().remote_id == eu_orphan


def test_scanning_one_account_leaves_another_accounts_orphans_alone(world, eu, scan, settings):
    default_orphan = clone(world, tenant_uid=NOBODY)
    scan()
    eu_orphan = eu_clone(eu, tenant_uid=NOBODY)

    settings.ORPHANS_AUTO_DELETE = True
    report = orphans_scan(client=eu.client, account=eu.account)

    assert (report.gone, report.auto_deleted) == (0, 1)
    assert Orphan.objects.get(remote_id=default_orphan).status == OrphanStatus.OPEN
    assert any(i["_id"] == default_orphan for i in world.objects("integrations"))
    assert Orphan.objects.get(remote_id=eu_orphan).status == OrphanStatus.DELETED
    assert not any(i["_id"] == eu_orphan for i in eu.objects("integrations"))


def test_an_orphan_of_a_second_account_is_deleted_in_that_account(world, eu, live_api):
    eu_orphan = eu_clone(eu, tenant_uid=NOBODY)
    orphans_scan_task()
    orphan = Orphan.objects.get(remote_id=eu_orphan)
    collections = ("integrations", "flows", "exports", "imports")
    before = {c: eu.objects(c) for c in collections}
    its = {
        c: [d for d in before[c] if eu_orphan in (d["_id"], d.get("_integrationId"))]
        for c in collections
    }
    assert its["integrations"] and its["flows"]
    default_counts = {c: len(world.objects(c)) for c in collections}

    response = live_api.post(f"/api/v1/orphans/{orphan.pk}/delete")

    assert response.status_code == 200, response.json()
    assert (response.json()["status"], response.json()["account"]) == ("deleted", "eu-main")
    for collection in collections:
        after = eu.objects(collection)
        assert len(after) == len(before[collection]) - len(its[collection]), collection
        assert not [d for d in after if eu_orphan in (d["_id"], d.get("_integrationId"))]
    assert {c: len(world.objects(c)) for c in collections} == default_counts, "untouched"


def test_an_orphan_is_not_adopted_into_a_tenant_of_another_account(world, eu, live_api):
    tenant = world.tenant("Adopter on default")  # no integration yet: could adopt one
    eu_orphan = eu_clone(eu, tenant_uid=NOBODY)
    orphans_scan_task()
    orphan = Orphan.objects.get(remote_id=eu_orphan)

    response = live_api.post(
        f"/api/v1/orphans/{orphan.pk}/adopt", {"tenant": tenant.external_id}, format="json"
    )

    assert response.status_code == 409, response.json()
    error = response.json()["error"]
    assert error["code"] == "orphan_not_actionable"
    assert "'eu-main'" in error["message"] and "'default'" in error["message"]
    assert Orphan.objects.get(pk=orphan.pk).status == OrphanStatus.OPEN
    tenant.refresh_from_db()
    assert tenant.integration_id == ""
    remote = next(i for i in eu.objects("integrations") if i["_id"] == eu_orphan)
    assert remote["tag"] == integration_tag(tenant_uid=NOBODY, template_key="shop-to-erp")


def test_orphan_found_names_the_incarnation_of_the_tenant_its_mark_names(world, scan):
    owner = provisioned(world, "Incarnated")
    duplicate = clone(world, tenant_uid=owner.uid)
    nobodys = clone(world, tenant_uid=NOBODY)

    scan()

    found = {
        e.data["remote_id"]: e.data for e in Event.objects.filter(event_type=EventType.ORPHAN_FOUND)
    }
    assert (found[duplicate]["tenant"], found[duplicate]["incarnation"]) == (
        owner.external_id,
        owner.incarnation,
    )
    assert (found[nobodys]["tenant"], found[nobodys]["incarnation"]) == (None, None)


def test_deleting_and_adopting_an_orphan_count_their_calls_for_the_tenant(world, scan, live_api):
    owner = provisioned(world, "Counted")
    duplicate = clone(world, tenant_uid=owner.uid)
    adopter = world.tenant("Counted adopter")  # connections work, no integration yet
    rows = {c.slot_key: c.connection_id for c in adopter.connections.all()}
    connections = {s["template_connection_id"]: rows[s["key"]] for s in world.template.slots}
    nobodys = clone(world, tenant_uid=NOBODY, connections=connections)
    scan()

    def calls(tenant, purpose):
        return sum(tenant.call_counts.filter(purpose=purpose).values_list("calls", flat=True))

    before = calls(owner, CallPurpose.DEPROVISION)
    deleted = live_api.post(f"/api/v1/orphans/{Orphan.objects.get(remote_id=duplicate).pk}/delete")
    assert deleted.status_code == 200, deleted.json()
    # Read it, then the integration, its flows, exports, imports and copied connections.
    assert calls(owner, CallPurpose.DEPROVISION) - before >= 2

    adopted = live_api.post(
        f"/api/v1/orphans/{Orphan.objects.get(remote_id=nobodys).pk}/adopt",
        {"tenant": adopter.external_id},
        format="json",
    )
    assert adopted.status_code == 200, adopted.json()
    assert calls(adopter, CallPurpose.PROVISION) >= 2  # read and re-marked, before its job
