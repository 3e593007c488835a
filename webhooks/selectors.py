"""Reads of endpoints, events and deliveries, shaped for the API and the admin."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from django.db.models import Count, Exists, OuterRef, Prefetch, QuerySet

from core.http_urls import HTTP_URL_PATTERN, http_url_problem
from webhooks.errors import DeliveryNotFound, EndpointNotFound, EventNotFound
from webhooks.models import DeliveryStatus, Event, WebhookDelivery, WebhookEndpoint


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def endpoint_list() -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.all()


def endpoint_url_problem(*, endpoint: WebhookEndpoint) -> str | None:
    """What is wrong with the endpoint's stored URL (core.http_urls, in its words), None when
    nothing is. A URL stored before the API and the admin checked it this strictly can never
    be called: each delivery to it fails at once (webhooks.delivery) until it is changed."""
    return http_url_problem(endpoint.url)


def endpoints_by_url_check(
    endpoints: QuerySet[WebhookEndpoint], *, passes: bool
) -> QuerySet[WebhookEndpoint]:
    """The endpoints whose stored URL passes (or fails) the check, in the database: the
    pattern is one PostgreSQL's regular expressions read as Python's does (its `$` is the end
    of the string, never before a final newline)."""
    matching = {"url__regex": HTTP_URL_PATTERN}
    return endpoints.filter(**matching) if passes else endpoints.exclude(**matching)


def endpoint_get(*, endpoint_id: str) -> WebhookEndpoint:
    key = _uuid(endpoint_id)
    endpoint = WebhookEndpoint.objects.filter(pk=key).first() if key else None
    if endpoint is None:
        raise EndpointNotFound(f"No webhook endpoint with id {endpoint_id!r}.")
    return endpoint


def delivery_list(
    *,
    endpoint_id: uuid.UUID | None = None,
    status: str | None = None,
    event_type: str | None = None,
    tenant_external_id: str | None = None,
    event_id: uuid.UUID | None = None,
) -> QuerySet[WebhookDelivery]:
    """Deliveries newest first, with their event loaded (one query per page)."""
    deliveries = WebhookDelivery.objects.select_related("event")
    if endpoint_id:
        deliveries = deliveries.filter(endpoint_id=endpoint_id)
    if status:
        deliveries = deliveries.filter(status=status)
    if event_type:
        deliveries = deliveries.filter(event__event_type=event_type)
    if tenant_external_id:
        deliveries = deliveries.filter(event__tenant_external_id=tenant_external_id)
    if event_id:
        deliveries = deliveries.filter(event_id=event_id)
    return deliveries


def delivery_get(*, delivery_id: str) -> WebhookDelivery:
    key = _uuid(delivery_id)
    delivery = (
        WebhookDelivery.objects.select_related("event", "endpoint")
        .prefetch_related("log")
        .filter(pk=key)
        .first()
        if key
        else None
    )
    if delivery is None:
        raise DeliveryNotFound(f"No webhook delivery with id {delivery_id!r}.")
    return delivery


def event_list(
    *,
    event_type: str | None = None,
    tenant_external_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[Event]:
    """Events (the outbox), newest first, whatever endpoints there were when each was
    recorded. `tenant_external_id` matches every incarnation of that external id, as the
    events hold it (a tenant deprovisioned and registered again keeps its earlier events);
    `since` is inclusive, `until` exclusive. A page is one read of an index of its own
    (webhook_event_created, _tenant, _type)."""
    events = Event.objects.all()
    if event_type is not None:
        events = events.filter(event_type=event_type)
    if tenant_external_id is not None:
        events = events.filter(tenant_external_id=tenant_external_id)
    if since is not None:
        events = events.filter(created_at__gte=since)
    if until is not None:
        events = events.filter(created_at__lt=until)
    return events.order_by("-created_at", "-id")


def event_get(*, event_id: str) -> Event:
    """One event with its deliveries (newest first, replays included) loaded; EventNotFound
    for an id that is none (or no UUID at all)."""
    key = _uuid(event_id)
    deliveries = Prefetch(
        "deliveries", queryset=WebhookDelivery.objects.order_by("-created_at", "-id")
    )
    event = Event.objects.prefetch_related(deliveries).filter(pk=key).first() if key else None
    if event is None:
        raise EventNotFound(f"No webhook event with id {event_id!r}.")
    return event


def event_delivery_counts(*, events: Sequence[Event]) -> dict[uuid.UUID, dict[str, int]]:
    """For each event, by id: how many deliveries it has (`total`) and how many are in each
    status (every status named, 0 included). One query for all the events, whatever their
    number and their deliveries'."""
    counts = {event.id: {"total": 0, **dict.fromkeys(DeliveryStatus.values, 0)} for event in events}
    if not counts:
        return counts
    rows = (
        WebhookDelivery.objects.filter(event_id__in=list(counts))
        .order_by()
        .values_list("event_id", "status")
        .annotate(number=Count("id"))
    )
    for event_id, status, number in rows:
        counts[event_id][status] = number
        counts[event_id]["total"] += number
    return counts


def _delivered():
    return Exists(WebhookDelivery.objects.filter(event=OuterRef("pk")))


def event_has_deliveries(*, event: Event) -> bool:
    """Whether the event was ever sent to an endpoint: its delivery log, which no one may
    delete by itself, keeps it until the scheduled purge (webhooks.retention)."""
    return WebhookDelivery.objects.filter(event=event).exists()


def events_with_deliveries(events: QuerySet[Event]) -> QuerySet[Event]:
    return events.filter(_delivered())


def events_without_deliveries(events: QuerySet[Event]) -> QuerySet[Event]:
    return events.exclude(_delivered())
