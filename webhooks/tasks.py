"""Celery tasks of webhooks: they take ids, call one function, and own the retry schedule.

A retry is a new message with a countdown; the delivery row holds the due time as well, so a
lost message (or a worker killed mid-request) is picked up again by the sweeper.
"""

from __future__ import annotations

from celery import shared_task

from core.outbox import send_on_commit
from webhooks.delivery import deliveries_due, delivery_attempt
from webhooks.retention import previous_secrets_forget, webhook_records_purge


@shared_task(name="webhooks.delivery_send", acks_late=True, ignore_result=True)
def webhook_delivery_send(delivery_id: str) -> str | None:
    outcome = delivery_attempt(delivery_id=delivery_id)
    if outcome is None:
        return None
    if outcome.retry_in is not None:
        # The row holds the retry's due time: if the broker is down, the sweeper sends it.
        send_on_commit(webhook_delivery_send, delivery_id, countdown=outcome.retry_in)
    return outcome.status


@shared_task(name="webhooks.deliveries_sweep", ignore_result=True)
def webhook_deliveries_sweep(grace_seconds: float = 60.0) -> int:
    """Re-send pending deliveries that no message carries any more (beat, every 30 s)."""
    # Imported here: it records events through webhooks.services, which imports this module.
    from webhooks.integrator_episodes import integrator_episodes_reconcile

    integrator_episodes_reconcile()
    due = deliveries_due(grace_seconds=grace_seconds)
    for delivery_id in due:
        webhook_delivery_send.delay(delivery_id)
    return len(due)


@shared_task(name="webhooks.records_purge", ignore_result=True)
def webhook_records_purge_task() -> int:
    previous_secrets_forget()
    return webhook_records_purge()
