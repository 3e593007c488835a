"""One attempt's outcome as the host app's developer reads it in the delivery log, made in
the test's own process (no worker): what a redirect and a cancellation record."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.html import escape

from tests.webhooks.receiver import Answer
from webhooks import services
from webhooks.delivery import delivery_attempt
from webhooks.models import DeliveryStatus, EventType, WebhookDelivery, WebhookEndpoint
from webhooks.tasks import webhook_delivery_send

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
    # The last attempt is still the request the log lists: its time and the endpoint's 500,
    # not the moment the cancellation found the endpoint disabled, with no answer.
    assert delivery.last_status_code == 500
    assert delivery.last_attempt_at == delivery.log.get().started_at


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://hooks.example.com:0/x", "Enter a port from 1 to 65535 (not 0), or none."),
        ("https://hooks.example.com:99999/x", "Enter a port from 1 to 65535 (not 99999), or none."),
        (
            f"https://{'a' * 64}.example.com/x",
            "Enter a host name whose parts between dots are 1 to 63 characters each.",
        ),
        (
            "https://-hooks.example.com/x",
            "Enter a host name whose parts between dots neither start nor end with a hyphen.",
        ),
        ("https://me:pw@hooks.example.com/x", "without a user name or password"),
    ],
)
def test_an_endpoint_url_stored_before_the_check_fails_its_delivery_at_once_saying_why(
    tenant, url, reason, admin_client
):
    # A URL the API takes no longer, stored before it checked as strictly. The label too long
    # crashed the attempt (urllib3's LocationParseError): no attempt in the log, the delivery
    # left pending and sent again by the sweeper for ever; the others were retried as network
    # errors ("Could not reach the endpoint (InvalidURL)") until dead-lettered.
    created = services.endpoint_create(url="https://hooks.example.com/x")
    WebhookEndpoint.objects.filter(pk=created.endpoint.pk).update(url=url)
    event = services.event_record(tenant=tenant, event_type=EventType.RUN_FAILED, data={})
    delivery = event.deliveries.get()

    outcome = webhook_delivery_send.run(str(delivery.pk))

    delivery.refresh_from_db()
    assert outcome == DeliveryStatus.FAILED
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.last_status_code is None
    assert "Nothing was sent: the endpoint's URL cannot be used." in delivery.last_error
    assert reason in delivery.last_error
    assert "pw" not in delivery.last_error
    assert delivery.attempts == 1 == delivery.log.count()
    assert delivery.log.get().error == delivery.last_error
    page = admin_client.get(f"/admin/webhooks/webhookdelivery/{delivery.pk}/change/")
    assert page.status_code == 200
    assert escape(reason) in page.content.decode()


def test_a_delivery_whose_attempts_never_end_is_given_up_at_the_limit(tenant, receiver, settings):
    # Each claim counts an attempt; a worker killed mid-attempt records nothing, and the
    # sweeper sends the delivery again. One that stops its worker every time was sent again
    # every minute without end, past the attempts' limit, never dead-lettered.
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    receiver.script = [Answer(status=200)]
    delivery = _delivery(tenant, receiver.url)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        attempts=3, next_attempt_at=timezone.now() - timedelta(seconds=1)
    )

    outcome = delivery_attempt(delivery_id=str(delivery.pk))

    delivery.refresh_from_db()
    assert outcome.status == DeliveryStatus.DEAD == delivery.status
    assert receiver.received == []  # nothing sent past the limit
    assert delivery.attempts == 3
    assert "Gave up after 3 attempts" in delivery.last_error
    assert "without an outcome recorded" in delivery.last_error


def test_a_failed_attempt_is_logged_for_ops_without_the_url_or_the_answer(tenant, receiver, caplog):
    # Recorded only in the delivery's log before: an operator reading the worker's log saw
    # nothing of a host app whose endpoint had been failing for hours.
    receiver.script = [Answer(status=503, body=b"token=s3cr3t"), Answer(status=400)]
    delivery = _delivery(tenant, f"{receiver.url}?key=hidden-in-url")

    with caplog.at_level("INFO", logger="webhooks.delivery"):
        delivery_attempt(delivery_id=str(delivery.pk))
        WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
        delivery_attempt(delivery_id=str(delivery.pk))

    lines = [r.getMessage() for r in caplog.records if r.name == "webhooks.delivery"]
    assert len(lines) == 2, lines
    assert f"webhook delivery {delivery.pk}" in lines[0]
    assert f"endpoint {delivery.endpoint_id}" in lines[0]
    assert "attempt 1 failed: HTTP 503; next attempt in" in lines[0]
    assert "attempt 2 failed: HTTP 400; not retried (failed)" in lines[1]
    assert all("s3cr3t" not in line and "hidden-in-url" not in line for line in lines)
    assert [r.levelname for r in caplog.records if r.name == "webhooks.delivery"] == [
        "WARNING",
        "WARNING",
    ]
