"""Reads of endpoints and deliveries, shaped for the API and the admin."""

from __future__ import annotations

import uuid

from django.db.models import Exists, OuterRef, QuerySet

from core.http_urls import HTTP_URL_PATTERN, http_url_problem
from webhooks.errors import DeliveryNotFound, EndpointNotFound
from webhooks.models import Event, WebhookDelivery, WebhookEndpoint


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
