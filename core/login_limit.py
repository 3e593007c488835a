"""At most ADMIN_LOGIN_MAX_FAILURES failed sign-ins to the admin per user name and address in
WINDOW_SECONDS, shared by every web process (a sliding window in Redis: core.sliding_window).
The admin is on the same host as the customer pages, so anyone who can open a link can reach
its sign-in page: without a bound, a password could be guessed at without end. Only failures
count, so a person who signs in is never held up by their own successes; past the bound, even
the right password waits until the oldest failure leaves the window. Keyed by name and address
together, a guesser elsewhere cannot lock a person out.

Without Redis the bound cannot be counted: sign-in goes on (ops must reach the admin during
an outage), and a warning says so.
"""

from __future__ import annotations

import hashlib
import logging

import redis
from django.conf import settings

from core.namespace import redis_key
from core.sliding_window import window_add, window_wait

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 15 * 60


def _key(username: str, address: str) -> str:
    digest = hashlib.sha256(f"{username}\x00{address}".encode()).hexdigest()
    return redis_key(f"admin:login-failures:{digest}")


def admin_login_wait_seconds(*, username: str, address: str) -> int:
    """0 when a sign-in as `username` from `address` may be tried; else the seconds to wait."""
    try:
        return window_wait(
            _key(username, address),
            window=WINDOW_SECONDS,
            limit=settings.ADMIN_LOGIN_MAX_FAILURES,
        )
    except redis.RedisError as exc:
        logger.warning("admin sign-in not limited: Redis did not answer (%s)", type(exc).__name__)
        return 0


def admin_login_failure_record(*, username: str, address: str) -> None:
    try:
        window_add(_key(username, address), window=WINDOW_SECONDS)
    except redis.RedisError as exc:
        logger.warning(
            "admin sign-in failure not counted: Redis did not answer (%s)", type(exc).__name__
        )
