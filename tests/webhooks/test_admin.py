"""Ops pages for endpoints and deliveries."""

import pytest

from tenants.models import IntegrationTemplate, Tenant
from tests.fixtures.factories import current_version
from webhooks import services
from webhooks.models import DeliveryStatus, EventType, WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db


def test_adding_an_endpoint_shows_its_secret_once(admin_client):
    response = admin_client.post(
        "/admin/webhooks/webhookendpoint/add/",
        {"url": "https://app.example.com/hooks", "description": "", "is_active": "on"},
        follow=True,
    )
    endpoint = WebhookEndpoint.objects.get()
    page = response.content.decode()
    secret = page.split("Signing secret of https://app.example.com/hooks: ")[1].split(" ")[0]

    assert secret.startswith("whsec_")
    change = admin_client.get(f"/admin/webhooks/webhookendpoint/{endpoint.pk}/change/")
    assert secret not in change.content.decode()
    assert endpoint.event_types == []


def test_replaying_a_dead_delivery_from_the_admin(admin_client):
    template = IntegrationTemplate.objects.create(key="t", name="T", source_integration_id="s")
    tenant = Tenant.objects.create(
        external_id="acme",
        name="Acme",
        template=template,
        template_version=current_version(template),
    )
    services.endpoint_create(url="https://app.example.com/hooks")
    event = services.event_record(tenant=tenant, event_type=EventType.RUN_FAILED, data={})
    WebhookDelivery.objects.update(status=DeliveryStatus.DEAD)
    dead = WebhookDelivery.objects.get()

    listing = admin_client.get("/admin/webhooks/webhookdelivery/", {"status": "dead"})
    admin_client.post(
        "/admin/webhooks/webhookdelivery/",
        {"action": "replay", "_selected_action": [dead.pk]},
    )

    assert "Dead-lettered" in listing.content.decode()
    assert WebhookDelivery.objects.filter(event=event, replay_of=dead).count() == 1


def _dead_delivery():
    template = IntegrationTemplate.objects.create(key="t", name="T", source_integration_id="s")
    tenant = Tenant.objects.create(
        external_id="acme",
        name="Acme",
        template=template,
        template_version=current_version(template),
    )
    services.endpoint_create(url="https://app.example.com/hooks")
    services.event_record(tenant=tenant, event_type=EventType.RUN_FAILED, data={"run": "r1"})
    WebhookDelivery.objects.update(status=DeliveryStatus.DEAD)
    return WebhookDelivery.objects.get()


def test_a_delivery_page_is_read_only(admin_client):
    dead = _dead_delivery()

    html = admin_client.get(f"/admin/webhooks/webhookdelivery/{dead.pk}/change/").content.decode()

    assert 'name="_save"' not in html and 'name="_continue"' not in html
    assert "Dead-lettered" in html


def test_replay_says_how_many_deliveries_in_words(admin_client):
    dead = _dead_delivery()

    response = admin_client.post(
        "/admin/webhooks/webhookdelivery/",
        {"action": "replay", "_selected_action": [dead.pk]},
        follow=True,
    )

    assert "Queued 1 delivery again (run.failed for acme)." in response.content.decode()
