"""The deployment's guards against integrator.io having a bad hour, as settings configure
them: the shared circuit breaker, the shared Retry-After pause, and the breaker's status for
/readyz, the admin banner and the API.

The breaker is plain Python (integrator.circuit_breaker); when its state changes, the one
process whose write made the change calls `_announce`, which sends
`integrator_availability_changed`. Upper apps listen (webhooks records
`integrator.unavailable` / `integrator.recovered`, once per episode, keyed by the episode).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import redis
from django.conf import settings
from django.dispatch import Signal

from core import metrics
from core.namespace import account_rate_limit_prefix, redis_key
from integrator.circuit_breaker import (
    CLOSED,
    HALF_OPEN,
    OPEN,
    BreakerState,
    RedisCircuitBreaker,
    Transition,
)
from integrator.pause import RedisSendPause

logger = logging.getLogger(__name__)

# Sent with `change` ("unavailable" or "recovered"), `episode` (the outage's id), `at`
# (datetime) and `failures`, once per episode and change, by the process that made it.
integrator_availability_changed = Signal()

UNAVAILABLE = "unavailable"
RECOVERED = "recovered"


def _announce(change: Transition) -> None:
    metrics.record_safely(metrics.INTEGRATOR_CIRCUIT_TRANSITIONS.labels(change.current).inc)
    if change.previous == CLOSED and change.current == OPEN:
        kind = UNAVAILABLE
    elif change.current == CLOSED:
        kind = RECOVERED
    else:
        return  # a probe going out, or failing again: the same episode
    integrator_availability_changed.send(
        sender=RedisCircuitBreaker,
        change=kind,
        episode=change.episode,
        at=datetime.fromtimestamp(change.at, tz=UTC),
        failures=change.state.failures,
    )


def integrator_breaker(connection: redis.Redis) -> RedisCircuitBreaker | None:
    """The deployment's breaker (None when INTEGRATOR_BREAKER_ENABLED=0)."""
    if not settings.INTEGRATOR_BREAKER_ENABLED:
        return None
    return RedisCircuitBreaker(
        connection,
        token=settings.INTEGRATOR_API_TOKEN,
        key_prefix=redis_key("integrator:breaker"),
        failure_threshold=settings.INTEGRATOR_BREAKER_FAILURES,
        probe_interval=settings.INTEGRATOR_BREAKER_PROBE_SECONDS,
        # A probe that neither answers nor times out (its worker died) is replaced after the
        # longest a call can take: connect and read timeouts, and a margin.
        probe_timeout=2 * settings.INTEGRATOR_TIMEOUT_SECONDS + 5,
        on_change=_announce,
    )


def integrator_send_pause(connection: redis.Redis) -> RedisSendPause:
    """The Retry-After pause: beside the account's bucket, so it is shared exactly as the
    bucket is (per deployment, or per account with INTEGRATOR_RATE_LIMIT_SHARED)."""
    return RedisSendPause(
        connection,
        token=settings.INTEGRATOR_API_TOKEN,
        key_prefix=f"{account_rate_limit_prefix()}:pause",
    )


@dataclass(frozen=True)
class IntegratorStatus:
    """What the breaker says, for people: `state` is closed, open, half_open, disabled or
    unknown (Redis cannot say)."""

    state: str
    since: datetime | None = None
    failures: int = 0
    next_probe_at: datetime | None = None
    episode: str | None = None

    @property
    def label(self) -> str:
        return self.state.replace("_", "-")

    @property
    def degraded(self) -> bool:
        return self.state in (OPEN, HALF_OPEN)

    def as_dict(self) -> dict:
        return {
            "state": self.state,
            "since": self.since,
            "failures": self.failures,
            "next_probe_at": self.next_probe_at,
            "episode": self.episode,
        }


def _when(seconds: float | None) -> datetime | None:
    return datetime.fromtimestamp(seconds, tz=UTC) if seconds is not None else None


def status_from(state: BreakerState) -> IntegratorStatus:
    return IntegratorStatus(
        state=state.state,
        since=_when(state.changed_at),
        failures=state.failures,
        next_probe_at=_when(state.next_probe_at) if state.state == OPEN else None,
        episode=state.episode if state.state != CLOSED else None,
    )


def integrator_status(connection: redis.Redis) -> IntegratorStatus:
    breaker = integrator_breaker(connection)
    if breaker is None:
        return IntegratorStatus(state="disabled")
    try:
        state, _ = breaker.snapshot()
    except redis.RedisError as error:
        logger.info("integrator status unknown, Redis failed: %s", type(error).__name__)
        return IntegratorStatus(state="unknown")
    return status_from(state)
