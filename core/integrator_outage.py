"""The deployment's guards against integrator.io having a bad hour, as settings configure
them, one set per integrator.io account (core.accounts): the shared circuit breaker, the
shared Retry-After pause, and the breaker's status for /readyz, the admin banner and the API.
An outage or a 429 of one account (or region) never stops the calls of another.

The breaker is plain Python (integrator.circuit_breaker); when its state changes, the one
process whose write made the change calls `_announce`, which sends
`integrator_availability_changed`. Upper apps listen (webhooks records
`integrator.unavailable` / `integrator.recovered`, once per episode, keyed by the episode;
provisioning sends the jobs that waited out the outage once it is recovered). An episode that
ends unseen (Redis lost the breaker's state) is announced the same way by the webhook sweep
(`integrator_episode_end_announce`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime

import redis
from django.conf import settings
from django.db import transaction
from django.dispatch import Signal

from core import metrics
from core.account_token_checks import TokenCheck, account_token_check, account_token_check_forget
from core.accounts import (
    account_token_source,
    integrator_account_deletable,
    integrator_accounts_list,
)
from core.models import IntegratorAccount
from core.namespace import account_rate_limit_prefix, redis_key
from integrator.circuit_breaker import (
    CLOSED,
    HALF_OPEN,
    OPEN,
    BreakerState,
    RedisCircuitBreaker,
    Transition,
    episode_opened_at,
)
from integrator.pause import RedisSendPause

logger = logging.getLogger(__name__)

# Sent with `change` ("unavailable" or "recovered"), `episode` (the outage's id), `at`
# (datetime), `failures` and `account` (its key), once per episode and change, by the process
# that made it.
integrator_availability_changed = Signal()

# What `IntegratorStatus.state` can be: the breaker's states, and two of our own.
BREAKER_STATES = (CLOSED, OPEN, HALF_OPEN, "disabled", "unknown")

# What a breaker changes to (eis_integrator_circuit_transitions_total's `to`).
BREAKER_MOVES = (CLOSED, OPEN, HALF_OPEN)

# How late beat's outage probe may come after its interval (its task queued, then run) before
# the banner says no probe is coming.
PROBE_SLACK_SECONDS = 5.0

UNAVAILABLE = "unavailable"
RECOVERED = "recovered"


def _announcer(account_key: str):
    return lambda change: _announce(change, account_key=account_key)


def _announce(change: Transition, *, account_key: str) -> None:
    metrics.record_safely(
        metrics.INTEGRATOR_CIRCUIT_TRANSITIONS.labels(account_key, change.current).inc
    )
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
        account=account_key,
    )


def integrator_episode_end_announce(*, account_key: str, episode: str, at: datetime) -> None:
    """Announce that the outage `episode` of account `account_key` is over although no
    breaker's write was seen closing it: Redis lost the breaker's state (restarted without
    persistence), or the transaction of the call that closed it rolled back what the close
    made its listeners do. The same signal as the close, so that every way an episode ends
    does the same once: webhooks records `integrator.recovered` (keyed by the episode: once),
    provisioning sends the jobs that waited out the outage (each taken once). Called by the
    webhook sweep (webhooks.integrator_episodes).

    `unseen=True` tells the listeners that no close was seen: the messages Redis held may be
    gone with the breaker's state (provisioning then also sends the waiting jobs whose backoff
    ended meanwhile, whose messages were in Redis)."""
    integrator_availability_changed.send(
        sender=RedisCircuitBreaker,
        change=RECOVERED,
        episode=episode,
        at=at,
        failures=0,
        account=account_key,
        unseen=True,
    )


def integrator_account_delete(connection: redis.Redis, *, account: IntegratorAccount) -> None:
    """Delete an account (one `integrator_account_deletable` allows) and end what its breaker
    held. An outage episode open (or probing) on it is over for good, as no call will go to
    the account again: it is announced recovered now, once, as the breaker's close would be
    (the host app was told `integrator.unavailable`), while the row still names the account,
    and the breaker's state and the token check are cleared in Redis, so that an account
    added later under the same key starts closed rather than in the old outage."""
    if not integrator_account_deletable(account):
        raise ValueError(f"integrator.io account {account.key} is in use or the default")
    breaker = _breaker_of(connection, account.key)
    state = None
    if breaker is not None:
        try:
            state, _ = breaker.snapshot()
        except redis.RedisError as error:
            logger.warning(
                "integrator.io account %s deleted with its breaker unread, Redis failed: %s",
                account.key,
                type(error).__name__,
            )
    with transaction.atomic():
        if state is not None and state.state != CLOSED and state.episode:
            integrator_availability_changed.send(
                sender=RedisCircuitBreaker,
                change=RECOVERED,
                episode=state.episode,
                at=datetime.now(tz=UTC),
                failures=state.failures,
                account=account.key,
            )
            logger.warning(
                "integrator.io account %s deleted during outage episode %s: announced "
                "integrator.recovered (the episode ends with the account)",
                account.key,
                state.episode,
            )
        account.delete()
    if breaker is not None:
        try:
            breaker.reset()
        except redis.RedisError as error:
            logger.warning(
                "integrator.io account %s deleted, its breaker not cleared, Redis failed: %s",
                account.key,
                type(error).__name__,
            )
    account_token_check_forget(connection, account_key=account.key)


def integrator_breaker(
    connection: redis.Redis, account: IntegratorAccount
) -> RedisCircuitBreaker | None:
    """The account's breaker (None when INTEGRATOR_BREAKER_ENABLED=0). Keyed by the
    account's key, not its token: its state can be shown without the token, and outlives a
    token change (the platform's health is not the token's)."""
    return _breaker_of(connection, account.key)


def _breaker_of(connection: redis.Redis, account_key: str) -> RedisCircuitBreaker | None:
    if not settings.INTEGRATOR_BREAKER_ENABLED:
        return None
    # Each change at 0 from the breaker's first use in this process: a series born at 1 shows
    # no increase(), and the dashboard missed the first outage after a restart.
    metrics.record_safely(metrics.circuit_transitions_start_at_zero, account_key, BREAKER_MOVES)
    return RedisCircuitBreaker(
        connection,
        token=f"account:{account_key}",
        key_prefix=redis_key("integrator:breaker"),
        failure_threshold=settings.INTEGRATOR_BREAKER_FAILURES,
        probe_interval=settings.INTEGRATOR_BREAKER_PROBE_SECONDS,
        # A probe that neither answers nor times out (its worker died) is replaced after the
        # longest a call can take: connect and read timeouts, and a margin.
        probe_timeout=2 * settings.INTEGRATOR_TIMEOUT_SECONDS + 5,
        on_change=_announcer(account_key),
        name=f"account {account_key}",
    )


def integrator_send_pause(connection: redis.Redis, *, token: str) -> RedisSendPause:
    """The Retry-After pause of the account whose `token` it is: beside the account's bucket,
    so it is shared exactly as the bucket is (per deployment, or per account with
    INTEGRATOR_RATE_LIMIT_SHARED)."""
    return RedisSendPause(
        connection,
        token=token,
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

    @property
    def failing_since(self) -> datetime | None:
        """While open or half-open: when the outage began (its episode), for people. The
        breaker's `since` is its last change, which each failed probe moves."""
        opened_at = episode_opened_at(self.episode) if self.degraded and self.episode else None
        return _when(opened_at)

    @property
    def probe_due(self) -> bool:
        """The probe interval is over but no call has come to be the probe yet: the breaker
        probes with a real call, and beat's outage probe (provisioning.outage_probe) makes one
        each interval, at a moment of its own, so up to one interval after this time."""
        return self.next_probe_at is not None and self.next_probe_at <= datetime.now(tz=UTC)

    @property
    def probe_overdue(self) -> bool:
        """No call has been the probe though beat's outage probe had its turn since the probe
        time (one interval, and a few seconds for its task to be queued and run): that probe
        is not running (beat or the workers are down)."""
        if self.next_probe_at is None:
            return False
        late = self.next_probe_at.timestamp() + settings.INTEGRATOR_BREAKER_PROBE_SECONDS
        return late + PROBE_SLACK_SECONDS <= datetime.now(tz=UTC).timestamp()

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


def integrator_status(connection: redis.Redis, account: IntegratorAccount) -> IntegratorStatus:
    return integrator_status_of(connection, account_key=account.key)


def integrator_status_of(connection: redis.Redis, *, account_key: str) -> IntegratorStatus:
    """The breaker of the account `account_key` says, read from Redis (one round trip; never
    a call to integrator.io)."""
    breaker = _breaker_of(connection, account_key)
    if breaker is None:
        return IntegratorStatus(state="disabled")
    try:
        state, _ = breaker.snapshot()
    except redis.RedisError as error:
        logger.info(
            "integrator.io account %s: breaker state unknown, Redis failed: %s",
            account_key,
            type(error).__name__,
        )
        return IntegratorStatus(state="unknown")
    return status_from(state)


@dataclass(frozen=True)
class AccountStatus:
    """One account's breaker, for /readyz, the API and the admin banner (never its token)."""

    key: str
    name: str
    region: str
    is_default: bool
    status: IntegratorStatus
    # "set", "unreadable", "environment" or "not set" (core.accounts.account_token_source); never
    # the token.
    token_source: str = "not set"
    # What integrator.io last said of that token (core.account_token_checks).
    token_check: TokenCheck = field(default_factory=TokenCheck)

    def as_dict(self) -> dict:
        return {
            "key": self.key,
            "name": self.name,
            "region": self.region,
            "default": self.is_default,
            **self.status.as_dict(),
        }


def integrator_accounts_status(connection: redis.Redis) -> list[AccountStatus]:
    """Every account's breaker and what integrator.io last said of its token, the default
    account first."""
    return [
        AccountStatus(
            key=account.key,
            name=account.name,
            region=account.region,
            is_default=account.is_default,
            status=integrator_status(connection, account),
            token_source=account_token_source(account),
            token_check=account_token_check(connection, account_key=account.key),
        )
        for account in integrator_accounts_list()
    ]


def integrator_status_overall(statuses: list[AccountStatus]) -> IntegratorStatus:
    """The default account's status, for the places that show one (/readyz's and the API
    root's `integrator`); the worst other account wins when the default is well."""
    if not statuses:
        return IntegratorStatus(state="disabled")
    degraded = [item.status for item in statuses if item.status.degraded]
    default = next((item.status for item in statuses if item.is_default), statuses[0].status)
    if default.degraded or not degraded:
        return default
    return degraded[0]
