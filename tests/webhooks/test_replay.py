"""Replaying a delivery (POST /api/v1/webhooks/deliveries/{id}/replay), as the host app's
developer calls it."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from api.api_keys import api_key_create
from api.scopes import ALL_SCOPES
from tests.webhooks.receiver import Answer, Receiver
from webhooks import services
from webhooks.delivery import delivery_attempt
from webhooks.models import DeliveryStatus, Event, EventType, WebhookDelivery

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


@pytest.mark.django_db(transaction=True)
def test_a_pending_delivery_replayed_while_an_attempt_runs_is_sent_now_after_it(
    api, tenant, settings
):
    # The receiver hangs (the attempt will fail); its developer fixes it and replays the
    # delivery while the worker still waits for the answer. The README: a pending delivery
    # replayed "sends it now instead of at its next retry". That attempt's failure must not
    # put it back to its backoff (a minute here, up to 10 in production).
    settings.WEBHOOK_RETRY_BASE_SECONDS = 60
    release = threading.Event()
    receiver = Receiver(script=[Answer(status=503, hold=release, hold_seconds=10)])
    try:
        endpoint = services.endpoint_create(url=receiver.url).endpoint
        # Rows only, no message: this test is the worker (a live one must not take it first).
        event = Event.objects.create(event_type=EventType.RUN_FAILED, tenant=tenant, data={})
        delivery = WebhookDelivery.objects.create(
            event=event, endpoint=endpoint, next_attempt_at=timezone.now()
        )
        outcome = {}

        def attempt():
            try:
                outcome["value"] = delivery_attempt(delivery_id=str(delivery.pk))
            finally:
                connection.close()

        worker = threading.Thread(target=attempt)
        worker.start()
        assert receiver.arrived.wait(10)

        replayed = api.post(f"{DELIVERIES}{delivery.id}/replay")
        release.set()
        worker.join(15)
    finally:
        release.set()
        receiver.stop()

    assert replayed.status_code == 202
    assert replayed.json()["id"] == str(delivery.id)
    assert outcome["value"].status == DeliveryStatus.PENDING
    assert outcome["value"].retry_in == 0
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.next_attempt_at <= timezone.now()


def test_a_pending_delivery_attempt_without_a_replay_keeps_its_backoff(tenant, settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 60
    receiver = Receiver(default=Answer(status=503))
    try:
        services.endpoint_create(url=receiver.url)
        event = services.event_record(tenant=tenant, event_type=EventType.RUN_FAILED, data={})
        delivery = event.deliveries.get()
        outcome = delivery_attempt(delivery_id=str(delivery.pk))
    finally:
        receiver.stop()

    assert outcome.status == DeliveryStatus.PENDING
    assert 30 <= outcome.retry_in <= 60
    delivery.refresh_from_db()
    assert delivery.next_attempt_at >= timezone.now() + timedelta(seconds=25)
