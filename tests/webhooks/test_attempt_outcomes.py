"""One attempt's outcome as the host app's developer reads it in the delivery log, made in
the test's own process (no worker)."""

import pytest

from tenants.models import IntegrationTemplate, Tenant
from tests.fixtures.factories import current_version
from tests.webhooks.receiver import Answer
from webhooks import services
from webhooks.delivery import delivery_attempt
from webhooks.models import DeliveryStatus, EventType, WebhookDelivery

pytestmark = pytest.mark.django_db


@pytest.fixture
def tenant():
    template = IntegrationTemplate.objects.create(key="t", name="T", source_integration_id="s")
    return Tenant.objects.create(
        external_id="acme",
        name="Acme",
        template=template,
        template_version=current_version(template),
    )


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
