"""This process's Redis client for the service's small shared state: the sliding windows of
sign-in and submission limits, OAuth sign-in states, turns of on-demand checks.

One client (and so one connection pool) per Redis URL for the life of the process: a client
made per call would open a new connection every time. Short timeouts, because every caller
is serving a person's request and must decide quickly what to do without Redis (each caller
says what that is). The rate limiter of integrator.io calls has its own pool
(core.integrator_client.rate_limit_redis), with still shorter timeouts; /readyz probes Redis
with a connection of its own, so that a pool's state cannot hide an outage.
"""

from __future__ import annotations

import functools

import redis
from django.conf import settings

TIMEOUT_SECONDS = 2


def state_redis() -> redis.Redis:
    """The client for settings.REDIS_URL (read at each call, so tests may change it)."""
    return _client(settings.REDIS_URL)


@functools.cache
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(
        url, socket_timeout=TIMEOUT_SECONDS, socket_connect_timeout=TIMEOUT_SECONDS
    )
