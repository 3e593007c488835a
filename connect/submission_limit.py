"""At most N credential submissions per link per minute, shared by every web process.

Every submission that reaches integrator.io's ping costs a request against a third party's
login. Without a bound, a link would let anyone try keys in bulk through us. A sliding window
in Redis (one sorted set per link, one atomic script) counts accepted submissions over the
last 60 seconds; refused ones are not counted, so a user who waits is let in again on time.
"""

import math
import uuid
from dataclasses import dataclass
from functools import cache

import redis
from django.conf import settings

from core.namespace import redis_key

WINDOW_SECONDS = 60

# Uses the server's clock (TIME), so that web processes with skewed clocks agree.
_SLIDING_WINDOW = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) + tonumber(now_parts[2]) / 1000000
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('EXPIRE', KEYS[1], math.ceil(window) + 1)
  return {1, '0'}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, tostring(tonumber(oldest[2]) + window - now)}
"""


@dataclass(frozen=True)
class SubmissionDecision:
    allowed: bool
    retry_after_seconds: int = 0


class SubmissionLimitUnavailable(Exception):
    """Redis did not answer; the caller refuses the submission rather than skip the limit."""


@cache
def _redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)


def submission_acquire(*, link_id: str) -> SubmissionDecision:
    """Count one submission for the link, or refuse it with the seconds until one is free."""
    key = redis_key(f"connect:submissions:{link_id}")
    try:
        allowed, retry_after = _redis(settings.REDIS_URL).eval(
            _SLIDING_WINDOW,
            1,
            key,
            WINDOW_SECONDS,
            settings.CONNECT_SUBMISSIONS_PER_MINUTE,
            uuid.uuid4().hex,
        )
    except redis.RedisError as exc:
        raise SubmissionLimitUnavailable(type(exc).__name__) from exc
    if allowed:
        return SubmissionDecision(allowed=True)
    wait = max(1, math.ceil(float(retry_after)))
    return SubmissionDecision(allowed=False, retry_after_seconds=wait)
