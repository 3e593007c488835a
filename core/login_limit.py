"""At most ADMIN_LOGIN_MAX_FAILURES failed sign-ins to the admin per user name and address in
WINDOW_SECONDS, shared by every web process (Redis, a sliding window as
connect.submission_limit's). The admin is on the same host as the customer pages, so anyone
who can open a link can reach its sign-in page: without a bound, a password could be guessed
at without end. Only failures count, so a person who signs in is never held up by their own
successes; past the bound, even the right password waits until the oldest failure leaves the
window. Keyed by name and address together, a guesser elsewhere cannot lock a person out.

Without Redis the bound cannot be counted: sign-in goes on (ops must reach the admin during
an outage), and a warning says so.
"""

from __future__ import annotations

import hashlib
import logging
import math
import uuid
from functools import cache

import redis
from django.conf import settings

from core.namespace import redis_key

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 15 * 60

# The seconds until a sign-in may be tried (0: now), from the server's clock (TIME).
_WAIT = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) + tonumber(now_parts[2]) / 1000000
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < limit then
  return '0'
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return tostring(tonumber(oldest[2]) + window - now)
"""
_FAIL = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) + tonumber(now_parts[2]) / 1000000
redis.call('ZADD', KEYS[1], now, ARGV[2])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[1]) + 1)
return 1
"""


@cache
def _redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)


def _key(username: str, address: str) -> str:
    digest = hashlib.sha256(f"{username}\x00{address}".encode()).hexdigest()
    return redis_key(f"admin:login-failures:{digest}")


def admin_login_wait_seconds(*, username: str, address: str) -> int:
    """0 when a sign-in as `username` from `address` may be tried; else the seconds to wait."""
    try:
        wait = _redis(settings.REDIS_URL).eval(
            _WAIT, 1, _key(username, address), WINDOW_SECONDS, settings.ADMIN_LOGIN_MAX_FAILURES
        )
    except redis.RedisError as exc:
        logger.warning("admin sign-in not limited: Redis did not answer (%s)", type(exc).__name__)
        return 0
    wait = float(wait)
    return max(1, math.ceil(wait)) if wait > 0 else 0


def admin_login_failure_record(*, username: str, address: str) -> None:
    try:
        _redis(settings.REDIS_URL).eval(
            _FAIL, 1, _key(username, address), WINDOW_SECONDS, uuid.uuid4().hex
        )
    except redis.RedisError as exc:
        logger.warning(
            "admin sign-in failure not counted: Redis did not answer (%s)", type(exc).__name__
        )
