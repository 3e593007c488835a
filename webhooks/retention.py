"""How long events and their delivery log are kept."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Exists, OuterRef
from django.utils import timezone

from webhooks.models import DeliveryStatus, Event, WebhookDelivery, WebhookEndpoint

RETENTION = timedelta(days=30)


def webhook_records_purge(*, older_than: timedelta = RETENTION) -> int:
    """Delete events (with their deliveries) older than `older_than` that have nothing
    pending; returns the number of events deleted."""
    pending = WebhookDelivery.objects.filter(event=OuterRef("pk"), status=DeliveryStatus.PENDING)
    _, by_model = (
        Event.objects.filter(created_at__lt=timezone.now() - older_than)
        .exclude(Exists(pending))
        .delete()
    )
    return by_model.get(Event._meta.label, 0)


def previous_secrets_forget() -> int:
    """Clear the previous secret of endpoints whose rotation's grace window is over (it signs
    nothing any more; keeping its salt would keep it derivable). Returns how many."""
    return WebhookEndpoint.objects.filter(previous_secret_expires_at__lte=timezone.now()).update(
        previous_secret_salt="", previous_secret_expires_at=None
    )
