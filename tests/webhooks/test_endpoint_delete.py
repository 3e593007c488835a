"""Deleting an endpoint with deliveries still pending, as the docs say it goes."""

import re
from pathlib import Path

import pytest
from drf_spectacular.generators import SchemaGenerator

from webhooks import services
from webhooks.delivery import delivery_attempt
from webhooks.models import Event, EventType, WebhookDelivery

pytestmark = pytest.mark.django_db

README = (Path(__file__).resolve().parents[2] / "webhooks" / "README.md").read_text()


def test_a_deleted_endpoints_pending_deliveries_are_never_sent_and_the_docs_say_so(
    tenant, receiver
):
    # A host app moving its receiver by adding the new endpoint and deleting the old one
    # loses what was pending for the old one: the docs must say so, and how to move instead.
    endpoint = services.endpoint_create(url=receiver.url).endpoint
    event = services.event_record(tenant=tenant, event_type=EventType.RUN_FAILED, data={})
    delivery = event.deliveries.get()

    services.endpoint_delete(endpoint=endpoint)

    assert delivery_attempt(delivery_id=str(delivery.pk)) is None
    assert receiver.received == []
    assert not WebhookDelivery.objects.exists()
    assert Event.objects.filter(pk=event.pk).exists()

    readme = " ".join(README.split())
    assert re.search(r"Deleting an endpoint [^.]*pending deliveries[^.]*never sent", readme)
    assert "change its URL" in readme
    schema = SchemaGenerator().get_schema(request=None, public=True)
    destroy = schema["paths"]["/api/v1/webhooks/endpoints/{endpoint_id}"]["delete"]
    assert "pending" in destroy["description"]
    assert "change its `url`" in destroy["description"]
