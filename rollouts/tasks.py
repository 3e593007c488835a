"""Celery tasks of rollouts: the driver's step, and beat's safety net. They take ids and call
the driver; the driver decides, the task only sends the next message."""

from __future__ import annotations

from celery import shared_task

from core.outbox import send_on_commit
from rollouts.driver import rollout_advance, rollouts_to_nudge


@shared_task(name="rollouts.advance", acks_late=True, ignore_result=True)
def rollout_advance_task(rollout_id: str, token: str | None = None) -> None:
    """One step of the rollout; safe to run twice or at once (see rollouts.driver)."""
    next_check = rollout_advance(rollout_id=rollout_id, token=token)
    if next_check is not None:
        send_on_commit(
            rollout_advance_task, rollout_id, next_check.token, countdown=next_check.countdown
        )


@shared_task(name="rollouts.tick", ignore_result=True)
def rollouts_tick_task() -> int:
    """Beat, every ROLLOUTS_TICK_SECONDS: a step for every rollout whose chain of messages is
    overdue (a message the broker lost, a worker that died). Plain `.delay`, as the sweeps do:
    a tick that fails to send is followed by the next one."""
    rollout_ids = rollouts_to_nudge()
    for rollout_id in rollout_ids:
        rollout_advance_task.delay(rollout_id)
    return len(rollout_ids)
