"""What an event looks like on the wire, and which tenant status changes are events."""

from __future__ import annotations

import json

from django.core.serializers.json import DjangoJSONEncoder

from tenants.models import TenantStatus
from webhooks.models import Event, EventType


def event_body(*, event: Event) -> bytes:
    """The JSON body POSTed to endpoints; the same bytes on every attempt of the event."""
    document = {
        "id": str(event.id),
        "type": event.event_type,
        "created_at": event.created_at,
        "tenant": {"external_id": event.tenant_external_id} if event.tenant_external_id else None,
        "data": event.data,
    }
    return json.dumps(
        document, cls=DjangoJSONEncoder, sort_keys=True, separators=(",", ":")
    ).encode()


def json_safe(data: dict) -> dict:
    """`data` as plain JSON types (datetimes as ISO strings), as it will be stored and sent."""
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def tenant_status_event_type(*, previous: str, current: str) -> str | None:
    """The event a tenant's move from `previous` to `current` status stands for, if any.

    Moves that the host app does not need to hear about (e.g. into provisioning or
    deprovisioning, which it asked for itself) have none.
    """
    if current == TenantStatus.ACTIVE:
        return (
            EventType.TENANT_RECOVERED
            if previous == TenantStatus.DEGRADED
            else EventType.TENANT_ACTIVE
        )
    return {
        TenantStatus.DEGRADED: EventType.TENANT_DEGRADED,
        TenantStatus.FAILED: EventType.TENANT_FAILED,
        TenantStatus.DEPROVISIONED: EventType.TENANT_DEPROVISIONED,
    }.get(current)
