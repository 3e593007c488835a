"""One warning per interval when Redis fails under a shared mechanism (the rate limiter, the
send pause, the circuit breaker): each then lets every call through (fails open), and a Redis
outage must not write a log line per call. The line says "lets calls through", not "open": an
open circuit breaker is one that holds calls, the opposite."""

from __future__ import annotations

import logging
import time

import redis

INTERVAL_SECONDS = 30.0


class RedisOutageLog:
    def __init__(self, logger: logging.Logger, what: str) -> None:
        self._logger = logger
        self._what = what
        self._last = float("-inf")

    def failed(self, error: redis.RedisError) -> None:
        now = time.monotonic()
        if now - self._last >= INTERVAL_SECONDS:
            self._last = now
            self._logger.warning(
                "%s unavailable, letting calls to integrator.io through: Redis failed (%s)",
                self._what,
                type(error).__name__,
            )
