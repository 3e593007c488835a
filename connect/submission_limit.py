"""At most N credential submissions per link per minute, shared by every web process.

Every submission that reaches integrator.io's ping costs a request against a third party's
login. Without a bound, a link would let anyone try keys in bulk through us. A sliding window
in Redis (core.sliding_window) counts accepted submissions over the last 60 seconds; refused
ones are not counted, so a user who waits is let in again on time.
"""

from dataclasses import dataclass

import redis
from django.conf import settings

from core.namespace import redis_key
from core.sliding_window import window_take

WINDOW_SECONDS = 60


@dataclass(frozen=True)
class SubmissionDecision:
    allowed: bool
    retry_after_seconds: int = 0


class SubmissionLimitUnavailable(Exception):
    """Redis did not answer; the caller refuses the submission rather than skip the limit."""


def submission_acquire(*, link_id: str) -> SubmissionDecision:
    """Count one submission for the link, or refuse it with the seconds until one is free."""
    key = redis_key(f"connect:submissions:{link_id}")
    try:
        wait = window_take(
            key, window=WINDOW_SECONDS, limit=settings.CONNECT_SUBMISSIONS_PER_MINUTE
        )
    except redis.RedisError as exc:
        raise SubmissionLimitUnavailable(type(exc).__name__) from exc
    if wait == 0:
        return SubmissionDecision(allowed=True)
    return SubmissionDecision(allowed=False, retry_after_seconds=wait)
