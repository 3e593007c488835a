"""Webhook endpoints of the host app, the outbox of events, and the log of their deliveries.

An `Event` is written in the same database transaction as the change it reports, together
with one `WebhookDelivery` per subscribed endpoint; nothing is sent until that transaction
commits, and a delivery that a dead worker left behind is found again by the sweeper.
"""

import uuid
from datetime import datetime

from django.db import models
from django.db.models import Q

from core.leases import Leased
from core.redaction import redact_url


class EventType(models.TextChoices):
    TENANT_ACTIVE = "tenant.active", "Tenant active"
    TENANT_FAILED = "tenant.failed", "Tenant failed"
    TENANT_DEGRADED = "tenant.degraded", "Tenant degraded"
    TENANT_RECOVERED = "tenant.recovered", "Tenant recovered"
    TENANT_DEPROVISIONED = "tenant.deprovisioned", "Tenant deprovisioned"
    CONNECTION_FAILED = "connection.failed", "Connection failed"
    RUN_FAILED = "run.failed", "Run failed"
    ORPHAN_FOUND = "orphan.found", "Orphan found"
    TENANT_DRIFTED = "tenant.drifted", "Tenant drifted"
    # Recorded by rollouts (rollouts.events): a template version taken to the tenants.
    TENANT_UPGRADED = "tenant.upgraded", "Tenant upgraded"
    ROLLOUT_STARTED = "rollout.started", "Rollout started"
    ROLLOUT_HALTED = "rollout.halted", "Rollout halted"
    ROLLOUT_COMPLETED = "rollout.completed", "Rollout completed"
    ROLLOUT_ABORTED = "rollout.aborted", "Rollout aborted"
    ROLLOUT_ROLLED_BACK = "rollout.rolled_back", "Rollout rolled back"
    # Recorded when the deployment's circuit breaker opens and closes (core.integrator_outage).
    INTEGRATOR_UNAVAILABLE = "integrator.unavailable", "integrator.io unavailable"
    INTEGRATOR_RECOVERED = "integrator.recovered", "integrator.io recovered"
    # A test event, sent only on request to the one endpoint asked for (services.endpoint_ping).
    PING = "ping", "Ping (test event)"


# What an endpoint may subscribe to: every type but `ping`, which no change records and which
# reaches the endpoint pinged whatever its event types.
SUBSCRIBABLE_EVENT_TYPES = [choice for choice in EventType.choices if choice[0] != EventType.PING]


class WebhookEndpoint(models.Model):
    """A URL of the host app that receives events, signed with the endpoint's own secret.

    The secret itself is never stored: it is derived from WEBHOOK_SIGNING_KEY and
    `secret_salt` (see `webhooks.signing`), shown once when the endpoint is created or its
    secret rotated, and never again.

    After a rotation the previous secret still signs every delivery (a second v1 signature)
    until `previous_secret_expires_at`, so that the host app can deploy the new one without
    refusing the deliveries sent meanwhile. Only that one previous secret is kept, by its salt.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=200, blank=True)
    # Empty: every event type.
    event_types = models.JSONField(default=list, blank=True)
    is_active = models.BooleanField(default=True)
    secret_salt = models.CharField(max_length=64, editable=False)
    secret_rotated_at = models.DateTimeField()
    # The secret before the last rotation, while it still signs: both empty otherwise.
    previous_secret_salt = models.CharField(max_length=64, blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["-created_at", "-id"], name="webhook_endpoint_created")]

    def __str__(self) -> str:
        # Shown wherever the endpoint is named (admin titles, deliveries' column and filter,
        # the admin's history): its URL may carry the host app's secret, so masked.
        return self.description or redact_url(self.url)

    def wants(self, event_type: str) -> bool:
        return not self.event_types or event_type in self.event_types

    def previous_secret_valid_until(self, now: datetime) -> datetime | None:
        """When the previous secret stops signing, if it still does at `now`; else None."""
        expires_at = self.previous_secret_expires_at
        if self.previous_secret_salt and expires_at is not None and expires_at > now:
            return expires_at
        return None


class Event(models.Model):
    """Something that happened to a tenant, as the host app receives it.

    `dedupe_key` makes recording idempotent: the same change reported twice (a retried task,
    two code paths) yields one event.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    event_type = models.CharField(max_length=40, choices=EventType.choices)
    tenant = models.ForeignKey(
        "tenants.Tenant", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Kept with the event so that it still names its tenant if the row goes away: its
    # external id and which incarnation of it (a tenant registered again under the same
    # external id is a new one; null only for events about the deployment).
    tenant_external_id = models.CharField(max_length=128, blank=True)
    tenant_incarnation = models.PositiveIntegerField(null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)
    dedupe_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    # Indexed by webhook_event_created below (its first column), which also serves retention.
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        # The API's event list (GET /api/v1/webhooks/events) reads newest first, a page at a
        # time, by tenant or by type (the delivery list's `tenant` and `event_type` filters
        # too); without these each filtered page read the events' whole time index.
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="webhook_event_created"),
            models.Index(
                fields=["tenant_external_id", "-created_at", "-id"], name="webhook_event_tenant"
            ),
            models.Index(fields=["event_type", "-created_at", "-id"], name="webhook_event_type"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.tenant_external_id} ({self.id})"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    # The receiver answered a 4xx other than 429: retrying the same body cannot help.
    FAILED = "failed", "Failed"
    # Every attempt allowed was used on 5xx, 429 or timeouts.
    DEAD = "dead", "Dead-lettered"
    # The endpoint was disabled or deleted before the delivery went out.
    CANCELED = "canceled", "Canceled"


class WebhookDelivery(Leased):
    """One event on its way to one endpoint.

    A worker takes a pending delivery's lease (core.leases: compare and swap on its
    generation); its result only counts while it still holds the lease. When the worker dies,
    the lease runs out and the sweeper sends the delivery again.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    replay_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="replays"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "webhook deliveries"
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="pending"),
                name="webhook_delivery_due",
            ),
            models.Index(fields=["-created_at", "-id"], name="webhook_delivery_created"),
            models.Index(
                fields=["endpoint", "-created_at", "-id"], name="webhook_delivery_endpoint"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event.event_type} -> {self.endpoint} ({self.status})"

    def upcoming_attempt_at(self):
        """When the next attempt is due; None once the delivery is no longer pending. The
        column keeps the time the last attempt was due (it is not nullable), which a delivered,
        failed or dead one will never have again."""
        return self.next_attempt_at if self.status == DeliveryStatus.PENDING else None


class WebhookAttempt(models.Model):
    """One HTTP request of a delivery: what the receiver answered, or why none came."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="log")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["delivery", "number"]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.delivery_id}"
