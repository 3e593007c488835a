"""Old events go after 30 days, unless something about them is still pending."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tenants.models import IntegrationTemplate, Tenant
from tests.fixtures.factories import current_version
from webhooks import services
from webhooks.models import DeliveryStatus, Event, EventType, WebhookDelivery
from webhooks.retention import webhook_records_purge

pytestmark = pytest.mark.django_db


def test_it_purges_old_settled_events_only():
    template = IntegrationTemplate.objects.create(key="t", name="T", source_integration_id="s")
    tenant = Tenant.objects.create(
        external_id="acme",
        name="Acme",
        template=template,
        template_version=current_version(template),
    )
    services.endpoint_create(url="https://a.example.com/h")
    old_done, old_pending, recent = (
        services.event_record(tenant=tenant, event_type=EventType.RUN_FAILED, data={})
        for _ in range(3)
    )
    long_ago = timezone.now() - timedelta(days=31)
    Event.objects.filter(pk__in=[old_done.pk, old_pending.pk]).update(created_at=long_ago)
    WebhookDelivery.objects.exclude(event=old_pending).update(status=DeliveryStatus.DELIVERED)

    assert webhook_records_purge() == 1
    assert set(Event.objects.values_list("pk", flat=True)) == {old_pending.pk, recent.pk}
    assert WebhookDelivery.objects.count() == 2
