"""A test event on request (POST /api/v1/webhooks/endpoints/{id}/ping, the admin's "Send a
test event"): a `ping` to one endpoint, through the same worker, signature and log as every
event, to a local receiver."""

import json
import re
import time
from pathlib import Path

import pytest

from tests.fixtures.live_tenants import wait_for
from tests.webhooks.receiver import Answer, Receiver
from webhooks import services
from webhooks.errors import EndpointDisabled
from webhooks.models import DeliveryStatus, Event, EventType, WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db(transaction=True)

README = (Path(__file__).resolve().parents[2] / "webhooks" / "README.md").read_text()


def _readme_verify():
    """The README's receiver, run as a host developer would copy it."""
    namespace: dict = {}
    exec(re.search(r"```python\n(.*?)```", README, flags=re.DOTALL)[1], namespace)
    return namespace["verify"]


def _final(delivery_id, timeout=20.0) -> WebhookDelivery:
    def settled():
        delivery = WebhookDelivery.objects.get(pk=delivery_id)
        return delivery if delivery.status != DeliveryStatus.PENDING else None

    delivery = wait_for(settled, timeout=timeout)
    assert delivery is not None, "the delivery never settled"
    return delivery


def test_a_ping_reaches_its_endpoint_only_signed_as_the_readme_verifies(
    live_settings, receiver, live_worker
):
    other = Receiver()
    try:
        # The endpoint pinged takes only failures: a ping is sent to it all the same.
        pinged = services.endpoint_create(url=receiver.url, event_types=["run.failed"])
        services.endpoint_create(url=other.url)

        delivery = services.endpoint_ping(endpoint=pinged.endpoint)

        assert _final(delivery.pk).status == DeliveryStatus.DELIVERED
        time.sleep(0.5)  # a second request, or one to the other endpoint, would be here now
        assert len(receiver.received) == 1
        assert other.received == []
    finally:
        other.stop()
    request = receiver.received[0]
    body = json.loads(request.body)
    assert body["type"] == "ping"
    assert body["tenant"] is None
    assert body["data"] == {"endpoint_id": str(pinged.endpoint.pk)}
    assert request.headers["Webhook-Id"] == body["id"] == str(delivery.event_id)
    verify = _readme_verify()
    assert verify(pinged.secret, request.headers["Webhook-Signature"], request.body)
    assert not verify("whsec_other", request.headers["Webhook-Signature"], request.body)
    # One event, one delivery: no other endpoint has a row for it.
    assert list(WebhookDelivery.objects.filter(event_id=delivery.event_id)) == [delivery]
    assert Event.objects.get(pk=delivery.event_id).event_type == EventType.PING


def test_a_ping_is_retried_as_every_delivery_is(live_settings, receiver, live_worker):
    receiver.script = [Answer(status=503, body=b"deploying")]
    endpoint = services.endpoint_create(url=receiver.url).endpoint

    delivery = _final(services.endpoint_ping(endpoint=endpoint).pk)

    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.attempts == 2
    assert [attempt.status_code for attempt in delivery.log.all()] == [503, 200]
    assert len(set(receiver.event_ids())) == 1


def test_a_ping_to_a_url_that_cannot_be_called_fails_saying_what_is_wrong(
    live_settings, live_worker
):
    endpoint = services.endpoint_create(url="https://app.example.com/hooks").endpoint
    # Stored before the API checked URLs this strictly: no request can reach it.
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(url="http://127.0.0.1:99999/hooks")
    endpoint.refresh_from_db()

    delivery = _final(services.endpoint_ping(endpoint=endpoint).pk)

    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.last_error.startswith("Nothing was sent: the endpoint's URL cannot be used.")
    assert "port" in delivery.last_error


def test_a_ping_answered_404_fails_with_the_receivers_answer(live_settings, receiver, live_worker):
    receiver.default = Answer(status=404, body=b"no such route")
    endpoint = services.endpoint_create(url=receiver.url).endpoint

    delivery = _final(services.endpoint_ping(endpoint=endpoint).pk)

    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.last_error == "HTTP 404: no such route"


def test_a_disabled_endpoint_is_not_pinged(live_settings, receiver):
    endpoint = services.endpoint_create(url=receiver.url, is_active=False).endpoint

    with pytest.raises(EndpointDisabled, match="The endpoint is disabled"):
        services.endpoint_ping(endpoint=endpoint)

    assert not Event.objects.exists()
    assert not WebhookDelivery.objects.exists()


def test_a_ping_that_never_gets_through_fails_and_is_no_dead_letter(live_settings, live_worker):
    # Dead letters are events a host app lost, and they page ops (WebhookDeadLetters): a test
    # event to an endpoint still being built is not one. Its retries spent, it is failed.
    server = Receiver(default=Answer(status=503, body=b"not deployed yet"))
    try:
        endpoint = services.endpoint_create(url=server.url).endpoint
        delivery = _final(services.endpoint_ping(endpoint=endpoint).pk)
    finally:
        server.stop()

    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == live_settings.WEBHOOK_MAX_ATTEMPTS == len(server.received)
    assert "Gave up after 4 attempts" in delivery.last_error
    assert "test event" in delivery.last_error
    assert not WebhookDelivery.objects.filter(status=DeliveryStatus.DEAD).exists()
