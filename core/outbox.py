"""Sending a task whose database row is its outbox, once the caller's transaction commits.

A provisioning job or a webhook delivery is a row first: the row says what is due and when,
and the task message only says "look now". The sweepers (`provisioning.jobs_sweep`,
`webhooks.deliveries_sweep`, run by beat) send a message for every row that is due and that
nothing has taken up, so a message that never reached the broker costs a delay, not the work.

That is why a send must never fail the request that committed the row: the change has
happened, and a 500 would make the host app retry an operation that already took place. When
the broker cannot take the message (Redis down, or hung: the publish gives up quickly, see
CELERY_BROKER_TRANSPORT_OPTIONS), `send_on_commit` logs a warning and leaves the row to the
sweeper. Nothing is sent if the transaction rolls back.

Every task whose row is an outbox is sent through here. Tasks sent from beat's own periodic
tasks (the sweeps) use plain `.delay`: a failing beat tick is harmless, the next one retries.

A task that wants another attempt later sends itself again through here too, with a countdown
from `retry_policy` (the service's one way to retry a task; no task uses Celery's
`self.retry`): the row, or the attempt number in the message, carries what the next attempt
needs, and a message the broker refused costs a delay, not the work.
"""

from __future__ import annotations

import logging

import redis
from celery import Task
from django.db import transaction
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)

# What a publish raises when the broker cannot be reached or does not answer in time. Anything
# else (a bug) is still logged with its traceback by Django (`robust=True`), and the request
# still answers: its transaction has committed either way.
BROKER_ERRORS = (OperationalError, redis.RedisError, OSError)


def send_on_commit(task: Task, *args, countdown: float | None = None) -> None:
    """Send `task(*args)` when the current transaction commits (at once outside of one)."""

    def send() -> None:
        try:
            task.apply_async(args=args, countdown=countdown)
        except BROKER_ERRORS as error:
            logger.warning(
                "task %s%s not sent, the broker failed (%s); the sweeper will send it",
                task.name,
                list(args),
                type(error).__name__,
            )

    transaction.on_commit(send, robust=True)
