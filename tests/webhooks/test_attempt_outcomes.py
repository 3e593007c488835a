"""One attempt's outcome as the host app's developer reads it in the delivery log, made in
the test's own process (no worker): what a redirect and a cancellation record."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.webhooks.receiver import Answer
from webhooks import services
from webhooks.delivery import delivery_attempt
from webhooks.models import DeliveryStatus, EventType, WebhookDelivery

pytestmark = pytest.mark.django_db


def _delivery(tenant, url) -> WebhookDelivery:
    services.endpoint_create(url=url)
    event = services.event_record(tenant=tenant, event_type=EventType.RUN_FAILED, data={})
    return event.deliveries.get()


def test_a_redirect_says_it_was_not_followed_and_where_it_pointed(tenant, receiver):
    receiver.script = [
        Answer(status=301, headers={"Location": "https://new.example.com/hooks?token=s3cr3t"})
    ]
    delivery = _delivery(tenant, receiver.url)

    delivery_attempt(delivery_id=str(delivery.pk))

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.last_status_code == 301
    assert "redirects are not followed" in delivery.last_error
    assert "https://new.example.com/hooks" in delivery.last_error
    assert "s3cr3t" not in delivery.last_error
    assert delivery.log.get().error == delivery.last_error


def test_a_delivery_canceled_by_a_disabled_endpoint_counts_only_the_attempts_sent(tenant, receiver):
    receiver.script = [Answer(status=500)]
    delivery = _delivery(tenant, receiver.url)
    delivery_attempt(delivery_id=str(delivery.pk))
    services.endpoint_update(endpoint=delivery.endpoint, is_active=False)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )

    delivery_attempt(delivery_id=str(delivery.pk))

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.CANCELED
    assert len(receiver.received) == 1
    assert delivery.attempts == 1 == delivery.log.count()
