"""Rotating an endpoint's signing secret: for a grace window the old secret still verifies
(every delivery carries a v1 signature for each), so that the host app can deploy the new one
without failing the deliveries sent meanwhile; after the window only the new one does."""

from datetime import timedelta

import pytest
from django.utils import timezone

from webhooks import services, signing
from webhooks.delivery import delivery_attempt
from webhooks.models import DeliveryStatus, EventType, WebhookEndpoint

pytestmark = pytest.mark.django_db


def _delivered(tenant, receiver):
    """Record an event, attempt its delivery here, and return the request that arrived."""
    event = services.event_record(tenant=tenant, event_type=EventType.RUN_FAILED, data={})
    delivery = event.deliveries.get()
    count = len(receiver.received)
    delivery_attempt(delivery_id=str(delivery.pk))
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert len(receiver.received) == count + 1
    return receiver.received[-1]


def _verifies(secret: str, request) -> bool:
    return signing.signature_verify(
        secret=secret, header=request.headers["Webhook-Signature"], body=request.body
    )


def test_a_receiver_with_the_old_secret_still_verifies_a_delivery_right_after_rotation(
    tenant, receiver
):
    old = services.endpoint_create(url=receiver.url).secret

    new = services.endpoint_secret_rotate(endpoint=WebhookEndpoint.objects.get()).secret
    request = _delivered(tenant, receiver)

    assert _verifies(old, request)
    assert _verifies(new, request)
    # The new secret's signature first, then the old one's.
    header = request.headers["Webhook-Signature"]
    timestamp = int(request.headers["Webhook-Timestamp"])
    assert header == (
        signing.signature_header(secret=new, timestamp=timestamp, body=request.body)
        + ","
        + signing.signature_header(secret=old, timestamp=timestamp, body=request.body).split(",")[1]
    )


def test_after_the_grace_window_only_the_new_secret_verifies(tenant, receiver, settings):
    settings.WEBHOOK_SECRET_ROTATION_GRACE_SECONDS = 3600
    old = services.endpoint_create(url=receiver.url).secret
    rotated = services.endpoint_secret_rotate(endpoint=WebhookEndpoint.objects.get())
    expires_at = rotated.endpoint.previous_secret_expires_at
    assert expires_at - rotated.endpoint.secret_rotated_at == timedelta(hours=1)

    # The window has passed.
    WebhookEndpoint.objects.update(previous_secret_expires_at=timezone.now() - timedelta(seconds=1))
    request = _delivered(tenant, receiver)

    assert _verifies(rotated.secret, request)
    assert not _verifies(old, request)
    assert request.headers["Webhook-Signature"].count("v1=") == 1


def test_a_second_rotation_in_the_window_keeps_only_the_immediately_previous_secret(
    tenant, receiver
):
    first = services.endpoint_create(url=receiver.url).secret
    second = services.endpoint_secret_rotate(endpoint=WebhookEndpoint.objects.get()).secret
    third = services.endpoint_secret_rotate(endpoint=WebhookEndpoint.objects.get()).secret

    request = _delivered(tenant, receiver)

    assert _verifies(third, request)
    assert _verifies(second, request)
    assert not _verifies(first, request)
    assert request.headers["Webhook-Signature"].count("v1=") == 2


def test_a_rotation_with_no_grace_stops_the_old_secret_at_once(tenant, receiver):
    # A leaked secret: the host app wants it dead now, not tomorrow.
    old = services.endpoint_create(url=receiver.url).secret
    rotated = services.endpoint_secret_rotate(
        endpoint=WebhookEndpoint.objects.get(), previous_secret_expires_in=timedelta(0)
    )

    request = _delivered(tenant, receiver)

    assert _verifies(rotated.secret, request)
    assert not _verifies(old, request)
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.previous_secret_salt == ""
    assert endpoint.previous_secret_expires_at is None


def test_only_the_old_secrets_salt_and_expiry_are_stored(tenant, receiver):
    created = services.endpoint_create(url=receiver.url)
    old_salt = created.endpoint.secret_salt

    rotated = services.endpoint_secret_rotate(endpoint=WebhookEndpoint.objects.get())

    stored = str(WebhookEndpoint.objects.values().get())
    assert created.secret not in stored and rotated.secret not in stored
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.previous_secret_salt == old_salt
    assert endpoint.previous_secret_expires_at > timezone.now()


def test_the_purge_forgets_an_expired_old_secret(receiver):
    from webhooks.retention import previous_secrets_forget

    services.endpoint_create(url=receiver.url)
    endpoint = services.endpoint_secret_rotate(endpoint=WebhookEndpoint.objects.get()).endpoint
    services.endpoint_create(url=receiver.url + "/2")
    in_window = services.endpoint_secret_rotate(
        endpoint=WebhookEndpoint.objects.exclude(pk=endpoint.pk).get()
    ).endpoint
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        previous_secret_expires_at=timezone.now() - timedelta(seconds=1)
    )

    assert previous_secrets_forget() == 1

    endpoint.refresh_from_db()
    in_window.refresh_from_db()
    assert endpoint.previous_secret_salt == "" and endpoint.previous_secret_expires_at is None
    assert in_window.previous_secret_salt and in_window.previous_secret_expires_at


def test_the_document_and_the_readme_describe_a_header_with_two_signatures(tenant, receiver):
    import re
    from pathlib import Path

    from api.webhook_schema import SIGNATURE_HEADERS

    old = services.endpoint_create(url=receiver.url).secret
    new = services.endpoint_secret_rotate(endpoint=WebhookEndpoint.objects.get()).secret
    request = _delivered(tenant, receiver)
    header = request.headers["Webhook-Signature"]

    documented = next(h for h in SIGNATURE_HEADERS if h["name"] == "Webhook-Signature")
    assert re.fullmatch(documented["schema"]["pattern"], header)
    assert "more than one `v1`" in documented["description"]
    # The README's receiver, run as a host developer would copy it.
    readme = (Path(__file__).resolve().parents[2] / "webhooks" / "README.md").read_text()
    code = re.search(r"```python\n(.*?)```", readme, flags=re.DOTALL)[1]
    namespace: dict = {}
    exec(code, namespace)
    assert namespace["verify"](old, header, request.body)
    assert namespace["verify"](new, header, request.body)
    assert not namespace["verify"]("whsec_other", header, request.body)


def test_the_audit_log_says_until_when_the_old_secret_signs(receiver):
    from django.core.serializers.json import DjangoJSONEncoder

    from audit.models import AuditEvent

    services.endpoint_create(url=receiver.url)

    rotated = services.endpoint_secret_rotate(endpoint=WebhookEndpoint.objects.get()).endpoint

    changes = AuditEvent.objects.get(action="webhook_endpoint.rotate_secret").changes
    assert changes["previous_secret_expires_at"]["before"] is None
    assert changes["previous_secret_expires_at"]["after"] == DjangoJSONEncoder().default(
        rotated.previous_secret_expires_at
    )
    assert rotated.previous_secret_salt not in str(changes)


def test_two_rotations_at_once_keep_the_secret_the_first_one_handed_out(tenant, receiver):
    # Two requests each read the endpoint before either rotated it (two deploy scripts, a
    # retried call): the second must keep the first one's new secret as the previous one,
    # not the secret both read, or the secret the first answered with never verifies.
    services.endpoint_create(url=receiver.url)
    seen_by_first = WebhookEndpoint.objects.get()
    seen_by_second = WebhookEndpoint.objects.get()

    first = services.endpoint_secret_rotate(endpoint=seen_by_first).secret
    second = services.endpoint_secret_rotate(endpoint=seen_by_second).secret
    request = _delivered(tenant, receiver)

    assert _verifies(second, request)
    assert _verifies(first, request)
