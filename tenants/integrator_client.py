"""The integrator.io client as the service configures it (from Django settings).

Every client built here shares one Redis token bucket per API token, so that all web and
worker processes of the deployment (or, with INTEGRATOR_RATE_LIMIT_SHARED, of every deployment
on the account) together stay under the account's rate limit. Each process keeps one Redis
connection pool and reuses it for every client it builds.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import redis
from django.conf import settings

from core.namespace import account_rate_limit_prefix
from integrator.client import IntegratorClient
from integrator.rate_limit import RedisTokenBucket
from integrator.transport import CallRecord

# A courtesy limiter must never be the reason a request hangs: short Redis timeouts, and the
# bucket runs open when Redis is down (see integrator.rate_limit).
_REDIS_TIMEOUT_SECONDS = 1.0

_pool: redis.ConnectionPool | None = None
_pool_url: str | None = None
_pool_lock = threading.Lock()


def rate_limit_redis() -> redis.Redis:
    """This process's Redis client for rate-limit buckets (one pool, reused)."""
    global _pool, _pool_url
    with _pool_lock:
        if _pool is None or _pool_url != settings.REDIS_URL:
            _pool = redis.ConnectionPool.from_url(
                settings.REDIS_URL,
                socket_timeout=_REDIS_TIMEOUT_SECONDS,
                socket_connect_timeout=_REDIS_TIMEOUT_SECONDS,
            )
            _pool_url = settings.REDIS_URL
        return redis.Redis(connection_pool=_pool)


def build_integrator_client(
    *, on_call: Callable[[CallRecord], None] | None = None
) -> IntegratorClient:
    """A client for the account in settings; close it (or use `with`) when done."""
    token = settings.INTEGRATOR_API_TOKEN
    limiter = RedisTokenBucket(
        rate_limit_redis(),
        token=token,
        key_prefix=account_rate_limit_prefix(),
        burst=settings.INTEGRATOR_RATE_LIMIT_BURST,
        per_second=settings.INTEGRATOR_RATE_LIMIT_PER_SECOND,
    )
    return IntegratorClient(
        settings.INTEGRATOR_API_URL,
        token,
        timeout=settings.INTEGRATOR_TIMEOUT_SECONDS,
        rate_limiter=limiter,
        on_call=on_call,
    )
