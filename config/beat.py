"""Celery beat's scheduler (CELERY_BEAT_SCHEDULER): a periodic task that the broker could not
take is one warning line, not a traceback.

Celery's own scheduler logs a send that failed as an error with two stacks, the exception's
chain and the scheduler's own call stack (a list of frames in the message itself): about 80
lines for each due task, every few seconds, for as long as Redis is away, an outage the README
("When Redis goes away") describes and the service outlives. Nothing is lost by it: each
periodic task is sent again at its next due time, and the job rows that the sweep re-sends are
the outbox for the work itself. Any other failure to send keeps Celery's report.
"""

from __future__ import annotations

import logging

from celery.beat import PersistentScheduler, SchedulingError
from kombu.exceptions import OperationalError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

# Celery's own logger, so that beat's lines keep one name.
logger = logging.getLogger("celery.beat")

_BROKER_UNAVAILABLE = (
    OperationalError,
    RedisConnectionError,
    RedisTimeoutError,
    ConnectionError,
    TimeoutError,
)


def broker_unavailable_cause(error: BaseException) -> BaseException | None:
    """The broker's connection error behind a failed send, if that is what it was: Celery's
    SchedulingError wraps it (as the exception it was raised while handling)."""
    seen = set()
    cause = error.__cause__ or error.__context__
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, _BROKER_UNAVAILABLE):
            return cause
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return None


class Scheduler(PersistentScheduler):
    def apply_entry(self, entry, producer=None):
        logger.info("Scheduler: Sending due task %s (%s)", entry.name, entry.task)
        try:
            self.apply_async(entry, producer=producer, advance=False)
        except Exception as error:  # as broad as Celery's own: beat must go on with the rest
            cause = broker_unavailable_cause(error) if isinstance(error, SchedulingError) else None
            if cause is None:
                # Not the broker being away: reported as Celery does, with its traceback.
                logger.error("Message Error: %s", error, exc_info=True)
                return
            logger.warning(
                "periodic task %s (%s) not sent, the broker failed (%s: %s); it is sent "
                "again at its next due time",
                entry.name,
                entry.task,
                type(cause).__name__,
                cause,
            )
