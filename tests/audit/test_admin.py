"""The admin: every action records one audit event with the ops user as the actor, and one
entry in Django's admin log; forms without a service behind them are recorded too; the audit
log itself is read only there, for superusers as well."""

import json
from dataclasses import dataclass, field

import pytest
from django.contrib import admin
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.test import RequestFactory
from django.utils import timezone
from rest_framework_api_key.models import APIKey

from api.api_keys import api_key_create
from audit.models import AuditEvent
from provisioning.models import JobStatus, OrphanKind
from rollouts.models import RolloutStatus
from runs.models import TenantFlow
from tenants.connect_links import connect_link_create
from tenants.models import ConnectionStatus, OAuthClientRecord
from tests.audit.audit_world import World

pytestmark = pytest.mark.django_db


@pytest.fixture
def ops(admin_client):
    """A superuser signed in to the admin (pytest-django's `admin`)."""
    return admin_client


@pytest.fixture
def world(account, make_tenant, runs_client):
    return World(account, make_tenant, runs_client)


def _since(last: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(id__gt=last).order_by("id"))


def _last() -> int:
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


@dataclass(frozen=True)
class AdminAction:
    changelist: str
    name: str
    action: str
    target_type: str
    extra: dict = field(default_factory=dict)


def _object(case: AdminAction, w: World):
    """The object the action is applied to."""
    match case.name:
        case "retry_jobs":
            return w.job(JobStatus.FAILED)
        case "cancel_jobs":
            return w.job(JobStatus.QUEUED)
        case "request_provision":
            w.waiting.connections.update(connection_id="c", status=ConnectionStatus.OK)
            return w.waiting
        case "request_repair":
            return w.acme
        case "request_deprovision":
            return w.waiting
        case "tenants_pin":
            return w.acme
        case "tenants_unpin":
            type(w.acme).objects.filter(pk=w.acme.pk).update(version_pinned=True)
            return w.acme
        case "delete_remotely" | "adopt":
            return w.orphan(OrphanKind.INTEGRATION, w.lost_clone())
        case "rollout_resume":
            return w.rollout(RolloutStatus.PAUSED)
        case "rollout_pause" | "rollout_abort" | "rollout_rollback":
            return w.rollout(RolloutStatus.RUNNING)
        case "run_now":
            return TenantFlow.objects.create(
                tenant=w.acme,
                flow_id=w.live.flow_ids[0],
                name="Orders",
                refreshed_at=timezone.now(),
            )
        case "revoke":
            return connect_link_create(tenant=w.acme).link
        case "rotate_secret" | "send_test_event":
            return w.endpoint()
        case "replay":
            return w.delivery()
        case "revoke_keys":
            return api_key_create(name="leaked", scopes=["tenants:read"])[0]
    raise AssertionError(case.name)


ACTIONS = [
    AdminAction("provisioning/job", "retry_jobs", "job.retry", "job"),
    AdminAction("provisioning/job", "cancel_jobs", "job.cancel", "job"),
    AdminAction("tenants/tenant", "request_provision", "tenant.provision", "tenant"),
    AdminAction("tenants/tenant", "request_repair", "tenant.repair", "tenant"),
    AdminAction(
        "tenants/tenant", "request_deprovision", "tenant.deprovision", "tenant", {"post": "yes"}
    ),
    AdminAction("tenants/tenant", "tenants_pin", "tenant.pin", "tenant"),
    AdminAction("tenants/tenant", "tenants_unpin", "tenant.unpin", "tenant"),
    AdminAction(
        "provisioning/orphan", "delete_remotely", "orphan.delete", "orphan", {"post": "yes"}
    ),
    AdminAction(
        "provisioning/orphan",
        "adopt",
        "orphan.adopt",
        "orphan",
        {"apply": "1", "tenant": "acme-42", "slot": ""},
    ),
    AdminAction("rollouts/rollout", "rollout_pause", "rollout.pause", "rollout"),
    AdminAction("rollouts/rollout", "rollout_resume", "rollout.resume", "rollout"),
    AdminAction("rollouts/rollout", "rollout_abort", "rollout.abort", "rollout", {"post": "yes"}),
    AdminAction(
        "rollouts/rollout", "rollout_rollback", "rollout.rollback", "rollout", {"post": "yes"}
    ),
    AdminAction("runs/tenantflow", "run_now", "flow.run", "flow"),
    AdminAction(
        "tenants/connectlink", "revoke", "connect_link.revoke", "connectlink", {"post": "yes"}
    ),
    AdminAction(
        "webhooks/webhookendpoint",
        "rotate_secret",
        "webhook_endpoint.rotate_secret",
        "webhookendpoint",
        {"post": "yes"},
    ),
    AdminAction(
        "webhooks/webhookendpoint", "send_test_event", "webhook_endpoint.ping", "webhookendpoint"
    ),
    AdminAction("webhooks/webhookdelivery", "replay", "webhook_delivery.replay", "webhookdelivery"),
    AdminAction(
        "rest_framework_api_key/apikey", "revoke_keys", "api_key.revoke", "api_key", {"post": "yes"}
    ),
]


def test_the_table_covers_every_admin_action(admin_user):
    request = RequestFactory().get("/admin/")
    request.user = admin_user
    registered = {
        (f"{model._meta.app_label}/{model._meta.model_name}", name)
        for model, model_admin in admin.site._registry.items()
        for name in model_admin.get_actions(request)
        # Django's own bulk delete: recorded by AuditedModelAdmin (test below) or, for API
        # keys, by their receivers.
        if name != "delete_selected"
    }
    assert registered == {(case.changelist, case.name) for case in ACTIONS}


@pytest.mark.parametrize("case", ACTIONS, ids=lambda case: case.name)
def test_each_admin_action_records_one_event_and_one_admin_log_entry(case, ops, admin_user, world):
    obj = _object(case, world)
    last = _last()

    response = ops.post(
        f"/admin/{case.changelist}/",
        {"action": case.name, "_selected_action": [str(obj.pk)], **case.extra},
    )

    assert response.status_code in (200, 302)
    events = _since(last)
    assert [(e.action, e.target_type) for e in events] == [(case.action, case.target_type)]
    [event] = events
    assert (event.actor_type, event.actor_id, event.actor_name) == (
        "user",
        str(admin_user.pk),
        admin_user.username,
    )
    assert event.request_id
    [entry] = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(obj), object_id=str(obj.pk)
    )
    assert entry.action_flag == CHANGE
    assert entry.user == admin_user
    assert entry.change_message.startswith("Admin action: ")


def test_a_tenant_saved_in_the_admin_is_recorded_once_as_its_update(ops, admin_user, world):
    acme = world.acme
    last = _last()

    response = ops.post(
        f"/admin/tenants/tenant/{acme.pk}/change/",
        {
            "name": "Acme Renamed",
            "settings": "{}",
            "allowed_origins": "[]",
            "connections-TOTAL_FORMS": "2",
            "connections-INITIAL_FORMS": "2",
            "jobs-TOTAL_FORMS": "0",
            "jobs-INITIAL_FORMS": "0",
            "connections-0-id": str(acme.connections.get(slot_key="erp").pk),
            "connections-0-tenant": str(acme.pk),
            "connections-1-id": str(acme.connections.get(slot_key="shop").pk),
            "connections-1-tenant": str(acme.pk),
        },
    )

    assert response.status_code == 302, response.content.decode()[:1000]
    [event] = _since(last)
    assert (event.action, event.actor_type, event.actor_name) == (
        "tenant.update",
        "user",
        admin_user.username,
    )
    assert event.changes["name"] == {"before": "Acme", "after": "Acme Renamed"}


TOKEN_URL = {"token_url": "https://crm.example.com/oauth/token"}


def test_an_oauth_client_saved_in_the_admin_is_recorded_without_its_secret(ops):
    last = _last()

    ops.post(
        "/admin/tenants/oauthclientrecord/add/",
        {"provider_key": "crm", "client_id": "cid", "client_secret": "s3cr3t-value", **TOKEN_URL},
    )

    [event] = _since(last)
    assert event.action == "oauth_client.create"
    assert event.changes["client_secret"] == {"before": "", "after": "[REDACTED]"}
    assert "s3cr3t-value" not in str(event.changes)


def test_an_oauth_client_saved_again_unchanged_records_nothing(ops):
    """Saved with the same client id and the secret left blank (kept): no change, no event
    (an `oauth_client.update` with empty changes would say someone changed it)."""
    ops.post(
        "/admin/tenants/oauthclientrecord/add/",
        {"provider_key": "crm", "client_id": "cid", "client_secret": "s3cr3t-value", **TOKEN_URL},
    )
    record = OAuthClientRecord.objects.get()
    last = _last()

    response = ops.post(
        f"/admin/tenants/oauthclientrecord/{record.pk}/change/",
        {"provider_key": "crm", "client_id": "cid", "client_secret": "", **TOKEN_URL},
    )
    ops.post(
        f"/admin/tenants/oauthclientrecord/{record.pk}/change/",
        {"provider_key": "crm", "client_id": "cid-2", "client_secret": "", **TOKEN_URL},
    )

    assert response.status_code == 302
    [event] = _since(last)
    assert event.action == "oauth_client.update"
    assert event.changes == {"client_id": {"before": "cid", "after": "cid-2"}}


def test_a_viewer_reads_whether_an_oauth_client_secret_is_set_and_no_empty_field(ops, viewer_admin):
    """The write-only secret field is for whoever may type a new one; read only, it showed
    "Client secret: None" above "Client secret: set"."""
    ops.post(
        "/admin/tenants/oauthclientrecord/add/",
        {"provider_key": "crm", "client_id": "cid", "client_secret": "s3cr3t-value", **TOKEN_URL},
    )
    record = OAuthClientRecord.objects.get()

    html = viewer_admin.get(f"/admin/tenants/oauthclientrecord/{record.pk}/change/")
    page = html.content.decode()

    assert "field-secret" in page and "field-client_secret" not in page
    assert "s3cr3t-value" not in page


def test_api_keys_made_and_revoked_in_the_admin_are_recorded(ops, admin_user):
    last = _last()
    no_expiry = {"expiry_date_0": "", "expiry_date_1": ""}
    change_url = "/admin/rest_framework_api_key/apikey/{}/change/"
    ops.post(
        "/admin/rest_framework_api_key/apikey/add/",
        {"name": "billing", "scopes": ["tenants:read"], **no_expiry},
    )
    key = APIKey.objects.get(name="billing")
    ops.post(
        change_url.format(key.pk),
        {"name": "billing", "scopes": ["tenants:read", "webhooks:manage"], **no_expiry},
    )
    ops.post(
        change_url.format(key.pk),
        {
            "name": "billing",
            "revoked": "on",
            "scopes": ["tenants:read", "webhooks:manage"],
            **no_expiry,
        },
    )

    events = _since(last)
    assert [(e.action, e.target_id, e.actor_name) for e in events] == [
        ("api_key.create", key.prefix, admin_user.username),
        ("api_key.scopes_change", key.prefix, admin_user.username),
        ("api_key.revoke", key.prefix, admin_user.username),
    ]
    assert events[0].changes["scopes"] == {"before": None, "after": ["tenants:read"]}
    assert events[1].changes == {
        "scopes": {"before": ["tenants:read"], "after": ["tenants:read", "webhooks:manage"]}
    }
    assert events[2].changes == {"revoked": {"before": False, "after": True}}


def test_rows_changed_or_deleted_in_the_admin_without_a_service_are_recorded(
    ops, admin_user, world
):
    link = connect_link_create(tenant=world.acme).link
    template = world.template
    last = _last()

    ops.post(
        f"/admin/tenants/integrationtemplate/{template.pk}/change/",
        {
            "key": template.key,
            "name": "Shop to ERP (EU)",
            "description": "",
            "source_integration_id": template.source_integration_id,
            "version": template.version,
            "is_active": "on",
            "slots": json.dumps(template.slots),
            "settings_schema": json.dumps(template.settings_schema),
        },
    )
    ops.post(f"/admin/tenants/connectlink/{link.pk}/delete/", {"post": "yes"})

    events = _since(last)
    assert [(e.action, e.target_id, e.tenant) for e in events] == [
        ("integration_template.admin_change", str(template.pk), ""),
        ("connect_link.admin_delete", str(link.pk), "acme"),
    ]
    assert {e.actor_name for e in events} == {admin_user.username}
    assert "name" in events[0].changes["admin_log"]["after"].lower()
    assert events[1].changes["object"]["before"] == f"connect link {link.pk} for acme"


def test_a_row_changed_in_the_admin_without_a_service_is_recorded_with_its_diff(
    ops, admin_user, world
):
    """What changed, before and after, as a service's event says it: a template's slots
    changed by hand say which slot went, not only "Changed Slots."."""
    template = world.template
    slots = template.slots[:1]
    last = _last()

    ops.post(
        f"/admin/tenants/integrationtemplate/{template.pk}/change/",
        {
            "key": template.key,
            "name": "Shop to ERP (EU)",
            "description": template.description,
            "source_integration_id": template.source_integration_id,
            "is_active": "on",
            "slots": json.dumps(slots),
            "settings_schema": json.dumps(template.settings_schema),
            "translations": json.dumps(template.translations),
        },
    )

    [event] = _since(last)
    assert event.action == "integration_template.admin_change"
    assert event.changes["name"] == {"before": template.name, "after": "Shop to ERP (EU)"}
    diff = event.changes["slots"]
    assert [slot["key"] for slot in diff["before"]] == [slot["key"] for slot in template.slots]
    assert [slot["key"] for slot in diff["after"]] == [slots[0]["key"]]
    assert len(template.slots) > 1
    assert set(event.changes) == {"object", "admin_log", "name", "slots"}


def test_the_audit_log_is_read_only_in_the_admin_even_for_a_superuser(ops, world):
    world.endpoint()
    event = AuditEvent.objects.get(action="webhook_endpoint.create")
    url = f"/admin/audit/auditevent/{event.pk}/"

    listing = ops.get("/admin/audit/auditevent/")
    page = ops.get(f"{url}change/")

    assert listing.status_code == 200 and page.status_code == 200
    assert 'name="action"' not in listing.content.decode(), "no bulk actions, no bulk delete"
    assert 'type="submit"' not in page.content.decode().split('id="content-main"')[1]
    assert ops.get("/admin/audit/auditevent/add/").status_code == 403
    assert ops.post(f"{url}change/", {"action": "x.y"}).status_code == 403
    assert ops.get(f"{url}delete/").status_code == 403
    assert ops.post(f"{url}delete/", {"post": "yes"}).status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_the_admin_user_is_the_actor_only_in_their_request(ops, admin_user, world):
    """The actor is reset when the request ends: a later change in this thread is not the
    admin user's."""
    ops.get("/admin/")
    last = _last()

    world.endpoint()

    [event] = _since(last)
    assert event.actor_type == "system"


def test_an_api_keys_events_name_the_key_and_link_to_its_page(ops):
    from django.contrib.admin.utils import quote
    from django.urls import reverse

    created, secret = api_key_create(name="Billing reports (EU)", scopes=["tenants:read"])
    event = AuditEvent.objects.get(action="api_key.create", target_id=created.prefix)
    key_page = reverse("admin:rest_framework_api_key_apikey_change", args=[quote(created.pk)])

    listed = ops.get("/admin/audit/auditevent/", {"q": created.prefix}).content.decode()
    shown = ops.get(f"/admin/audit/auditevent/{event.pk}/change/").content.decode()

    # Both said "api_key Ab12Cd34", the prefix alone: which key it was, an ops person had to look
    # up by hand in the API key list.
    for page in (listed, shown):
        assert f'<a href="{key_page}">Billing reports (EU)</a>' in page
        assert secret not in page
    followed = ops.get(key_page)
    assert followed.status_code == 200
    assert "Billing reports (EU)" in followed.content.decode()
    assert secret not in followed.content.decode()


def test_an_event_an_api_key_made_links_its_actor_to_the_key(ops):
    from django.contrib.admin.utils import quote
    from django.urls import reverse

    from audit.context import Actor, acting_as
    from audit.services import Target, audit_record

    created, secret = api_key_create(name="Host app (EU)", scopes=["tenants:read"])
    with acting_as(Actor.api_key(prefix=created.prefix, name=created.name)):
        audit_record(action="tenant.create", target=Target("tenant", "42"))
    event = AuditEvent.objects.get(action="tenant.create", actor_id=created.prefix)
    key_page = reverse("admin:rest_framework_api_key_apikey_change", args=[quote(created.pk)])

    listed = ops.get("/admin/audit/auditevent/", {"q": created.prefix}).content.decode()
    shown = ops.get(f"/admin/audit/auditevent/{event.pk}/change/").content.decode()

    for page in (listed, shown):
        assert f'<a href="{key_page}">Host app (EU) / {created.prefix}</a>' in page
        assert secret not in page


def test_events_about_a_tenant_its_connections_and_jobs_name_them_and_link_to_their_pages(ops):
    """The log said 'tenant 5', 'tenantconnection 10' and 'job 77e86316-…', the row ids alone:
    which tenant it was, an ops person had to find by hand (the tenant column names only the
    current external id). Each names its object and links to its page, with one query a type
    however many rows the page lists."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from audit.services import audit_record
    from provisioning.models import Job, JobKind, JobOrigin
    from tenants.models import TenantConnection
    from tests.fixtures.factories import TenantFactory

    tenants = [TenantFactory(external_id=f"acme-{n}", name=f"Acme {n}") for n in range(3)]
    for tenant in tenants:
        slot = TenantConnection.objects.get(tenant=tenant, slot_key="shop")
        job = Job.objects.create(
            tenant=tenant,
            kind=JobKind.PROVISION,
            status=JobStatus.FAILED,
            requested_by=JobOrigin.API,
            due_at=timezone.now(),
        )
        audit_record(action="tenant.create", target=tenant)
        audit_record(action="connection.submit", target=slot, tenant=tenant.external_id)
        audit_record(action="job.fail", target=job, tenant=tenant.external_id)
    tenant_page = reverse("admin:tenants_tenant_change", args=[tenants[0].pk])
    job_page = reverse("admin:provisioning_job_change", args=[job.pk])

    listed = ops.get("/admin/audit/auditevent/").content.decode()
    with CaptureQueriesContext(connection) as few:
        ops.get("/admin/audit/auditevent/", {"q": "acme-0"})
    event = AuditEvent.objects.get(action="job.fail", target_id=str(job.pk))
    shown = ops.get(f"/admin/audit/auditevent/{event.pk}/change/").content.decode()

    assert f'<a href="{tenant_page}">Acme 0 (acme-0)</a>' in listed
    assert f'<a href="{tenant_page}">Acme 0 (acme-0): shop</a>' in listed
    assert f'<a href="{job_page}">Provision of Acme 2 (acme-2)</a>' in listed
    assert f'<a href="{job_page}">Provision of Acme 2 (acme-2)</a>' in shown
    with CaptureQueriesContext(connection) as many:
        ops.get("/admin/audit/auditevent/")
    assert len(many) == len(few)
