"""Replaying a delivery (POST /api/v1/webhooks/deliveries/{id}/replay), as the host app's
developer calls it."""

import pytest
from rest_framework.test import APIClient

from api.api_keys import api_key_create
from api.scopes import ALL_SCOPES
from webhooks import services
from webhooks.models import DeliveryStatus, EventType, WebhookDelivery

pytestmark = pytest.mark.django_db

DELIVERIES = "/api/v1/webhooks/deliveries/"


@pytest.fixture
def api() -> APIClient:
    _, key = api_key_create(name="host app", scopes=ALL_SCOPES)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def test_a_replay_to_a_disabled_endpoint_is_refused_as_a_ping_to_it_is(api, tenant):
    # The README: a disabled endpoint is not pinged (409 webhook_endpoint_disabled), "and a
    # replay to it is refused the same way": a client handles one code for both.
    endpoint = services.endpoint_create(url="https://app.example.com/hooks").endpoint
    event = services.event_record(tenant=tenant, event_type=EventType.RUN_FAILED, data={})
    delivery = event.deliveries.get()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.CANCELED)
    services.endpoint_update(endpoint=endpoint, is_active=False)

    replayed = api.post(f"{DELIVERIES}{delivery.id}/replay")
    pinged = api.post(f"/api/v1/webhooks/endpoints/{endpoint.id}/ping")

    assert replayed.status_code == pinged.status_code == 409
    assert replayed.json()["error"]["code"] == pinged.json()["error"]["code"]
    assert replayed.json()["error"]["code"] == "webhook_endpoint_disabled"
    assert WebhookDelivery.objects.filter(event=event).count() == 1


def test_the_api_reference_lists_the_replays_409():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    replay = schema["paths"]["/api/v1/webhooks/deliveries/{delivery_id}/replay"]["post"]

    assert "webhook_endpoint_disabled" in replay["responses"]["409"]["description"]
