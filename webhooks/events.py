"""What an event looks like on the wire, and which tenant status changes are events."""

from __future__ import annotations

import json

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder

from tenants.connect_links import connect_link_path, connect_link_token
from tenants.models import ConnectLink, TenantStatus
from webhooks.models import Event, EventType


def event_body(*, event: Event) -> bytes:
    """The JSON body POSTed to endpoints; the same bytes on every attempt of the event."""
    document = {
        "id": str(event.id),
        "type": event.event_type,
        "created_at": event.created_at,
        "tenant": _tenant_on_the_wire(event),
        "data": _data_on_the_wire(event),
    }
    return json.dumps(
        document, cls=DjangoJSONEncoder, sort_keys=True, separators=(",", ":")
    ).encode()


def _tenant_on_the_wire(event: Event) -> dict | None:
    """Which tenant the event is about: its external id and its incarnation (a tenant
    deprovisioned and registered again under the same external id is a new incarnation, so
    that a late event of the old one is not taken for the new one's). None for an event about
    the deployment."""
    if not event.tenant_external_id:
        return None
    return {"external_id": event.tenant_external_id, "incarnation": event.tenant_incarnation}


def _data_on_the_wire(event: Event) -> dict:
    """The event's data, with a `connection.failed`'s reconnect link as a URL. The database
    keeps only the link's id (a link's token is shown to its holder, never stored); its token is
    signed as of the link's creation, so every attempt sends the same bytes."""
    data = event.data
    if event.event_type != EventType.CONNECTION_FAILED or "reconnect_link_id" not in data:
        return data
    link_id = data["reconnect_link_id"]
    link = ConnectLink.objects.filter(pk=link_id).first() if link_id else None
    url = None
    if link is not None:
        url = settings.SERVICE_PUBLIC_URL + connect_link_path(connect_link_token(link))
    return {**data, "reconnect_url": url}


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
