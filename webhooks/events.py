"""What an event looks like on the wire, and which tenant status changes are events."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence

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
        "data": events_data(events=[event])[event.id],
    }
    return json.dumps(
        document, cls=DjangoJSONEncoder, sort_keys=True, separators=(",", ":")
    ).encode()


def events_data(*, events: Sequence[Event]) -> dict[uuid.UUID, dict]:
    """Each event's `data` as its body carries it (`event_body`), by event id: what the API's
    event list shows. The reconnect links the events name are read in one query, whatever
    their number (none when no event names one)."""
    link_ids = {
        str(event.data["reconnect_link_id"])
        for event in events
        if _names_a_reconnect_link(event) and event.data["reconnect_link_id"]
    }
    links = (
        {str(link.pk): link for link in ConnectLink.objects.filter(pk__in=link_ids)}
        if link_ids
        else {}
    )
    return {event.id: _data_on_the_wire(event, links) for event in events}


def _tenant_on_the_wire(event: Event) -> dict | None:
    """Which tenant the event is about: its external id and its incarnation (a tenant
    deprovisioned and registered again under the same external id is a new incarnation, so
    that a late event of the old one is not taken for the new one's). None for an event about
    the deployment."""
    if not event.tenant_external_id:
        return None
    return {"external_id": event.tenant_external_id, "incarnation": event.tenant_incarnation}


def _names_a_reconnect_link(event: Event) -> bool:
    return event.event_type == EventType.CONNECTION_FAILED and "reconnect_link_id" in event.data


def _data_on_the_wire(event: Event, links: dict[str, ConnectLink]) -> dict:
    """The event's data, with a `connection.failed`'s reconnect link as a URL (`links`: the
    links the events name, by id; one gone since is null). The database keeps only the link's
    id (a link's token is shown to its holder, never stored); its token is signed as of the
    link's creation, so every attempt sends the same bytes."""
    data = event.data
    if not _names_a_reconnect_link(event):
        return data
    link_id = data["reconnect_link_id"]
    link = links.get(str(link_id)) if link_id else None
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
