"""Deliveries in the worker's metrics: each attempt counted by outcome, and the delivered
event's lag, in what the worker process recorded (PROMETHEUS_MULTIPROC_DIR)."""

import pytest

from tenants.models import IntegrationTemplate, Tenant, TenantStatus
from tests.fixtures.factories import current_version
from tests.fixtures.live_tenants import wait_for
from tests.fixtures.metrics import recorded, total
from tests.webhooks.receiver import Answer
from webhooks import services
from webhooks.models import DeliveryStatus, EventType, WebhookDelivery

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def tenant(live_settings):
    template = IntegrationTemplate.objects.create(
        key="hooks", name="Hooks", source_integration_id="5eed00000000000000000a01"
    )
    return Tenant.objects.create(
        external_id="acme",
        name="Acme",
        template=template,
        template_version=current_version(template),
        status=TenantStatus.ACTIVE,
    )


def test_a_retried_then_delivered_event_counts_each_attempt(
    tenant, receiver, live_worker, metrics_dir
):
    receiver.script = [Answer(status=500, body=b"boom")]
    services.endpoint_create(url=receiver.url)
    before = recorded(metrics_dir)

    event = services.event_record(tenant=tenant, event_type=EventType.TENANT_FAILED, data={})

    def delivered():
        delivery = WebhookDelivery.objects.get(event=event)
        return delivery.status == DeliveryStatus.DELIVERED

    assert wait_for(delivered)

    def counted():
        # The worker counts the attempt just after recording it: a moment after the row.
        now = recorded(metrics_dir)
        lag = "eis_webhook_delivery_lag_seconds_count"
        return now if total(now, lag) > total(before, lag) else None

    after = wait_for(counted, timeout=5)
    assert after is not None

    def delta(name, **labels):
        return total(after, name, **labels) - total(before, name, **labels)

    name = "eis_webhook_delivery_attempts_total"
    assert delta(name, outcome="retry") == 1
    assert delta(name, outcome="delivered") == 1
    assert delta(name, outcome="dead") == 0
    assert delta("eis_webhook_delivery_lag_seconds_count") == 1
    # The lag runs from the event to the 2xx: at least the retry's backoff.
    assert delta("eis_webhook_delivery_lag_seconds_sum") > 0
