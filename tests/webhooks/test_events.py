"""Recording events: the outbox rows, subscriptions, and tenant status changes."""

import pytest
from django.utils import timezone

from tenants.models import IntegrationTemplate, Tenant, TenantStatus
from tests.fixtures.factories import current_version
from webhooks import services
from webhooks.events import tenant_status_event_type
from webhooks.models import Event, EventType, WebhookDelivery

pytestmark = pytest.mark.django_db
S = TenantStatus


@pytest.fixture
def tenant():
    template = IntegrationTemplate.objects.create(key="t", name="T", source_integration_id="s")
    return Tenant.objects.create(
        external_id="acme",
        name="Acme",
        template=template,
        template_version=current_version(template),
        status=S.ACTIVE,
    )


@pytest.mark.parametrize(
    ("previous", "current", "expected"),
    [
        (S.PROVISIONING, S.ACTIVE, "tenant.active"),
        (S.DEGRADED, S.ACTIVE, "tenant.recovered"),
        (S.ACTIVE, S.DEGRADED, "tenant.degraded"),
        (S.PROVISIONING, S.DEGRADED, "tenant.degraded"),
        (S.PROVISIONING, S.FAILED, "tenant.failed"),
        (S.DEPROVISIONING, S.DEPROVISIONED, "tenant.deprovisioned"),
        (S.AWAITING_CREDENTIALS, S.PROVISIONING, None),
        (S.ACTIVE, S.DEPROVISIONING, None),
    ],
)
def test_it_maps_status_changes_to_events(previous, current, expected):
    assert tenant_status_event_type(previous=previous, current=current) == expected


def test_it_records_one_event_per_status_change_however_often_it_is_reported(tenant):
    tenant.status_changed_at = timezone.now()
    tenant.last_error = "Flow 'Orders' failed its last 3 runs."
    tenant.status = S.DEGRADED

    first = services.tenant_status_event_record(tenant=tenant, previous_status=S.ACTIVE)
    second = services.tenant_status_event_record(tenant=tenant, previous_status=S.ACTIVE)

    assert first is not None and second is None
    event = Event.objects.get()
    assert event.event_type == EventType.TENANT_DEGRADED
    assert event.data["reason"] == tenant.last_error
    assert event.data["previous_status"] == "active"


def test_it_writes_a_delivery_for_each_active_endpoint_that_wants_the_event(tenant):
    everything = services.endpoint_create(url="https://a.example.com/h").endpoint
    services.endpoint_create(url="https://b.example.com/h", event_types=["tenant.failed"])
    services.endpoint_create(url="https://c.example.com/h", is_active=False)

    event = services.event_record(
        tenant=tenant, event_type=EventType.RUN_FAILED, data={"at": timezone.now()}
    )

    assert [d.endpoint_id for d in WebhookDelivery.objects.all()] == [everything.id]
    assert isinstance(event.data["at"], str)  # stored as the JSON it is sent as
    with pytest.raises(ValueError):
        services.event_record(tenant=tenant, event_type="tenant.exploded", data={})
