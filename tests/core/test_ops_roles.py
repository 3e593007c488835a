"""Ops roles: a viewer sees and changes nothing, an operator runs the actions on tenants, jobs,
deliveries and rollouts, an administrator does everything of the service, a superuser
everything; every admin action names the permission it needs."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.utils import timezone
from rest_framework_api_key.models import APIKey

from api.api_keys import api_key_create
from api.scopes import ALL_SCOPES
from core.ops_roles import ADMINISTRATOR, OPERATOR, OPERATOR_ACTIONS, VIEWER, ops_roles_sync
from provisioning.models import Job, JobKind, JobOrigin, JobStatus, Orphan, OrphanKind, OrphanStatus
from tenants.models import IntegrationTemplate
from tests.fixtures.factories import TenantFactory
from webhooks import services as webhook_services
from webhooks.models import DeliveryStatus, EventType, WebhookDelivery

pytestmark = pytest.mark.django_db


def _codenames(group: str) -> set[str]:
    return {
        f"{app}.{codename}"
        for app, codename in Group.objects.get(name=group).permissions.values_list(
            "content_type__app_label", "codename"
        )
    }


def _queued_job(tenant) -> Job:
    return Job.objects.create(
        tenant=tenant,
        kind=JobKind.REPAIR,
        status=JobStatus.QUEUED,
        requested_by=JobOrigin.API,
        due_at=timezone.now(),
    )


def _dead_delivery(tenant) -> WebhookDelivery:
    webhook_services.endpoint_create(url="https://app.example.com/hooks")
    webhook_services.event_record(tenant=tenant, event_type=EventType.RUN_FAILED, data={})
    WebhookDelivery.objects.update(status=DeliveryStatus.DEAD)
    return WebhookDelivery.objects.get()


def _open_orphan() -> Orphan:
    now = timezone.now()
    return Orphan.objects.create(
        kind=OrphanKind.INTEGRATION,
        remote_id="65f0c2d4e6b1a8f0c2d4e6b1",
        name="left over",
        reason="no tenant",
        first_seen_at=now,
        last_seen_at=now,
    )


def _run_action(client, changelist: str, action: str, pks, **extra):
    return client.post(
        changelist, {"action": action, "_selected_action": [str(pk) for pk in pks], **extra}
    )


# --- the groups ------------------------------------------------------------------------------


def test_the_migration_made_the_three_groups_with_their_permissions():
    viewer, operator, administrator = (
        _codenames(VIEWER),
        _codenames(OPERATOR),
        _codenames(ADMINISTRATOR),
    )
    assert "tenants.view_tenant" in viewer and "provisioning.view_job" in viewer
    assert all(name.split(".")[1].startswith("view_") for name in viewer)
    assert operator == viewer | {f"core.{codename}" for codename in OPERATOR_ACTIONS}
    assert {
        "rest_framework_api_key.add_apikey",
        "rest_framework_api_key.change_apikey",
        "tenants.change_integrationtemplate",
        "tenants.change_tenant",
        "tenants.change_oauthclientrecord",
        "webhooks.change_webhookendpoint",
        "core.run_orphan_actions",
    } <= administrator
    assert operator < administrator
    # Who may log in, and with which powers, stays with superusers.
    for group in (viewer, operator, administrator):
        assert not any(name.startswith(("auth.", "contenttypes.", "sessions.")) for name in group)


def test_the_groups_follow_the_code_again_after_an_edit():
    operator = Group.objects.get(name=OPERATOR)
    operator.permissions.add(Permission.objects.get(codename="add_apikey"))
    Group.objects.filter(name=VIEWER).delete()

    ops_roles_sync(apps=apps)

    assert "rest_framework_api_key.add_apikey" not in _codenames(OPERATOR)
    assert "tenants.view_tenant" in _codenames(VIEWER)


def test_every_admin_action_names_the_permission_it_needs():
    for model, model_admin in admin.site._registry.items():
        for func, name, _ in model_admin._get_base_actions():
            permissions = getattr(func, "allowed_permissions", ())
            assert permissions, f"{type(model_admin).__name__}.{name} names no permission"
            for permission in permissions:
                # Django checks the same at start-up (admin.E129); a typo must fail here too.
                assert hasattr(model_admin, f"has_{permission}_permission"), (model, permission)


# --- the viewer ------------------------------------------------------------------------------


def test_a_viewer_sees_the_pages_but_is_offered_no_action(viewer_admin, template):
    tenant = TenantFactory(external_id="acme", template=template)
    listing = viewer_admin.get("/admin/tenants/tenant/")
    assert listing.status_code == 200
    assert "request_deprovision" not in listing.content.decode()
    page = viewer_admin.get(f"/admin/tenants/tenant/{tenant.pk}/change/")
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()


def test_a_viewer_cannot_run_an_action_by_posting_it(viewer_admin, template):
    tenant = TenantFactory(external_id="acme", template=template)
    job = _queued_job(tenant)
    delivery = _dead_delivery(tenant)

    for changelist, action, pk in (
        ("/admin/tenants/tenant/", "request_deprovision", tenant.pk),
        ("/admin/provisioning/job/", "cancel_jobs", job.pk),
        ("/admin/webhooks/webhookdelivery/", "replay", delivery.pk),
    ):
        # "post": the confirmation of an action that asks first (deprovision), posted outright.
        response = _run_action(viewer_admin, changelist, action, [pk], post="yes")
        # The viewer has no actions: Django ignores the posted one and shows the list again.
        assert response.status_code == 200

    assert list(Job.objects.values_list("pk", "status")) == [(job.pk, JobStatus.QUEUED)]
    assert WebhookDelivery.objects.count() == 1


def test_a_viewer_cannot_save_a_tenant(viewer_admin, template):
    tenant = TenantFactory(external_id="acme", name="Acme", template=template)
    response = viewer_admin.post(
        f"/admin/tenants/tenant/{tenant.pk}/change/",
        {"name": "Renamed", "settings": "{}", "allowed_origins": "[]"},
    )
    assert response.status_code == 403
    tenant.refresh_from_db()
    assert tenant.name == "Acme"


# --- the operator ----------------------------------------------------------------------------


def test_an_operator_runs_the_actions_on_jobs_and_deliveries(operator_admin, template):
    tenant = TenantFactory(external_id="acme", template=template)
    job = _queued_job(tenant)
    delivery = _dead_delivery(tenant)
    listing = operator_admin.get("/admin/provisioning/job/").content.decode()
    assert "cancel_jobs" in listing

    _run_action(operator_admin, "/admin/provisioning/job/", "cancel_jobs", [job.pk])
    _run_action(operator_admin, "/admin/webhooks/webhookdelivery/", "replay", [delivery.pk])

    job.refresh_from_db()
    assert job.status == JobStatus.CANCELED
    assert WebhookDelivery.objects.filter(replay_of=delivery).count() == 1


def test_an_operator_runs_the_actions_on_tenants(operator_admin, template):
    tenant = TenantFactory(external_id="globex", template=template)
    assert "request_deprovision" in operator_admin.get("/admin/tenants/tenant/").content.decode()

    _run_action(
        operator_admin, "/admin/tenants/tenant/", "request_deprovision", [tenant.pk], post="yes"
    )

    assert Job.objects.filter(tenant=tenant, kind=JobKind.DEPROVISION).count() == 1


def test_an_operator_cannot_manage_keys_templates_or_settings(operator_admin, template):
    tenant = TenantFactory(external_id="acme", name="Acme", template=template)
    assert operator_admin.get("/admin/rest_framework_api_key/apikey/add/").status_code == 403
    response = operator_admin.post(
        "/admin/rest_framework_api_key/apikey/add/",
        {"name": "sneaky", "scopes": list(ALL_SCOPES)},
    )
    assert response.status_code == 403
    assert not APIKey.objects.filter(name="sneaky").exists()
    assert operator_admin.get("/admin/tenants/integrationtemplate/add/").status_code == 403
    response = operator_admin.post(
        f"/admin/tenants/integrationtemplate/{template.pk}/change/",
        {"key": template.key, "name": "Renamed"},
    )
    assert response.status_code == 403
    assert IntegrationTemplate.objects.get(pk=template.pk).name == template.name
    response = operator_admin.post(
        f"/admin/tenants/tenant/{tenant.pk}/change/",
        {"name": "Renamed", "settings": "{}", "allowed_origins": "[]"},
    )
    assert response.status_code == 403
    assert operator_admin.get("/admin/tenants/oauthclientrecord/add/").status_code == 403


def test_an_operator_cannot_delete_orphans_in_integrator_io(operator_admin):
    orphan = _open_orphan()
    listing = operator_admin.get("/admin/provisioning/orphan/")
    assert listing.status_code == 200
    assert orphan.remote_id in listing.content.decode()
    assert "delete_remotely" not in listing.content.decode()

    _run_action(
        operator_admin, "/admin/provisioning/orphan/", "delete_remotely", [orphan.pk], post="yes"
    )

    orphan.refresh_from_db()
    assert orphan.status == OrphanStatus.OPEN


# --- the administrator and the superuser -----------------------------------------------------


def test_an_administrator_manages_keys_and_templates(administrator_admin, template):
    response = administrator_admin.post(
        "/admin/rest_framework_api_key/apikey/add/",
        {"name": "reporting", "scopes": ["tenants:read"]},
    )
    # Saved, and answered by the page that shows the new key once.
    assert (
        response.status_code == 200 and "The API key for reporting is" in response.content.decode()
    )
    assert APIKey.objects.get(name="reporting").grant.scopes == ["tenants:read"]
    assert administrator_admin.get("/admin/tenants/integrationtemplate/add/").status_code == 200
    _open_orphan()
    listing = administrator_admin.get("/admin/provisioning/orphan/").content.decode()
    assert "delete_remotely" in listing


@pytest.mark.parametrize("persona", ["operator_admin", "administrator_admin", "superuser_admin"])
def test_operators_administrators_and_superusers_cancel_a_job(request, persona, template):
    client = request.getfixturevalue(persona)
    job = _queued_job(TenantFactory(external_id="acme", template=template))

    _run_action(client, "/admin/provisioning/job/", "cancel_jobs", [job.pk])

    job.refresh_from_db()
    assert job.status == JobStatus.CANCELED


def test_only_a_superuser_manages_users(administrator_admin, superuser_admin):
    assert administrator_admin.get("/admin/auth/user/").status_code == 403
    assert superuser_admin.get("/admin/auth/user/").status_code == 200
    assert superuser_admin.get("/admin/rest_framework_api_key/apikey/add/").status_code == 200


def test_staff_without_a_role_sees_nothing(roleless_admin, template):
    assert roleless_admin.get("/admin/tenants/tenant/").status_code == 403
    api_key_create(name="x", scopes=["tenants:read"])
    assert roleless_admin.get("/admin/rest_framework_api_key/apikey/").status_code == 403
