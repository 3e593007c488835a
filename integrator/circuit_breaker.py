"""A circuit breaker that stops every process of a deployment from calling integrator.io
while it is unwell, and lets exactly one call at a time find out whether it is well again.

States (docs/integrator-io.md, "When integrator.io is unwell"):

- **closed**: calls go out. Each failure that means "the platform is unwell" (no connection,
  a timeout, a 5xx, an answer lost) adds one to a counter; any other answer (2xx, 3xx, 4xx,
  429) resets it. At `failure_threshold` consecutive failures the breaker opens. Consecutive
  rather than a ratio: the first thing an outage does is fail every call, and a counter needs
  no time window to keep; a platform failing one call in three keeps answering the others
  and the retries absorb it.
- **open**: calls fail at once with CircuitOpenError, nothing is sent, until `probe_interval`
  seconds after it opened (or after the last failed probe).
- **half-open**: the first caller after that becomes the *probe* (one caller in the whole
  deployment: the claim is an atomic write) and its call is sent; everyone else still fails
  fast. The probe's success closes the breaker; its failure reopens it for another interval.
  A probe that never reports (its process died) is replaced after `probe_timeout`.

One pure state machine (`admit`, `on_success`, `on_failure`) holds the rules; the two
breakers only store its state: `LocalCircuitBreaker` in memory (tests, scripts, no Redis),
`RedisCircuitBreaker` in one Redis hash shared by every process, updated with optimistic
transactions (WATCH/MULTI) and timed by the Redis server's clock.

`on_change(transition)` is called in the one process whose write made a transition
(opened, reopened, half-opened, closed), after the write; an exception in it is logged.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol, TypeVar

import redis

from integrator.pause import pause_ms_capped
from integrator.redaction import fingerprint
from integrator.redis_outage_log import RedisOutageLog

logger = logging.getLogger(__name__)

CLOSED = "closed"
OPEN = "open"
HALF_OPEN = "half_open"

DEFAULT_FAILURE_THRESHOLD = 5
DEFAULT_PROBE_INTERVAL = 10.0
DEFAULT_PROBE_TIMEOUT = 60.0

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class BreakerConfig:
    failure_threshold: int = DEFAULT_FAILURE_THRESHOLD
    probe_interval: float = DEFAULT_PROBE_INTERVAL
    probe_timeout: float = DEFAULT_PROBE_TIMEOUT

    def __post_init__(self) -> None:
        if self.failure_threshold < 1 or self.probe_interval <= 0 or self.probe_timeout <= 0:
            raise ValueError("failure_threshold must be >= 1, the intervals more than 0")


@dataclass(frozen=True, slots=True)
class BreakerState:
    """What the breaker knows; times are epoch seconds (the store's clock)."""

    state: str = CLOSED
    # Consecutive failures while closed; failures seen during the episode while open.
    failures: int = 0
    changed_at: float | None = None
    # The current (or last) outage: when it began. Its id keys the episode's events.
    opened_at: float | None = None
    next_probe_at: float | None = None
    probe_id: str | None = None
    probe_until: float | None = None

    @property
    def episode(self) -> str | None:
        return episode_id(self.opened_at) if self.opened_at is not None else None

    def retry_after(self, now: float) -> float | None:
        """Seconds until the next probe may go out (None when closed)."""
        if self.state == OPEN and self.next_probe_at is not None:
            return max(0.0, self.next_probe_at - now)
        if self.state == HALF_OPEN and self.probe_until is not None:
            return max(0.0, self.probe_until - now)
        return None


@dataclass(frozen=True, slots=True)
class Admission:
    """The breaker's answer before a call: send it (perhaps as the probe) or fail fast."""

    allowed: bool
    retry_after: float = 0.0
    probe_id: str | None = None
    # The failure count this caller saw: a success need not write when it was already 0.
    failures_seen: int = 0


ALLOW_UNGUARDED = Admission(allowed=True)


@dataclass(frozen=True, slots=True)
class Transition:
    previous: str
    current: str
    episode: str
    at: float
    state: BreakerState


def episode_id(opened_at: float) -> str:
    """An outage's id: when it began, in milliseconds (one episode per opening)."""
    return str(round(opened_at * 1000))


def episode_opened_at(episode: str) -> float | None:
    """When the outage `episode` (an `episode_id`) began, in seconds; None for another id."""
    try:
        return int(episode) / 1000
    except ValueError:
        return None


# --- the state machine: pure functions of (state, now) ---------------------------------------


def admit(
    state: BreakerState, now: float, config: BreakerConfig, probe_id: str
) -> tuple[BreakerState | None, Admission]:
    if state.state == CLOSED:
        return None, Admission(allowed=True, failures_seen=state.failures)
    if state.state == OPEN and state.next_probe_at is not None and now < state.next_probe_at:
        return None, Admission(allowed=False, retry_after=state.next_probe_at - now)
    if state.state == HALF_OPEN and state.probe_until is not None and now < state.probe_until:
        # A probe is out; if it fails, the next one is an interval away.
        return None, Admission(allowed=False, retry_after=config.probe_interval)
    # Open and due, or a probe that never reported: this caller is the probe.
    probing = replace(
        state,
        state=HALF_OPEN,
        changed_at=now,
        probe_id=probe_id,
        probe_until=now + config.probe_timeout,
    )
    return probing, Admission(allowed=True, probe_id=probe_id, failures_seen=state.failures)


def on_success(
    state: BreakerState, now: float, admission: Admission
) -> tuple[BreakerState | None, None]:
    if state.state == HALF_OPEN and admission.probe_id and admission.probe_id == state.probe_id:
        return BreakerState(state=CLOSED, changed_at=now, opened_at=state.opened_at), None
    if state.state == CLOSED and state.failures:
        return replace(state, failures=0), None
    # A late success of a call sent before the breaker opened proves little: only the probe
    # closes it.
    return None, None


def on_failure(
    state: BreakerState, now: float, config: BreakerConfig, admission: Admission
) -> tuple[BreakerState, None]:
    failures = state.failures + 1
    if state.state == CLOSED and failures >= config.failure_threshold:
        return BreakerState(
            state=OPEN,
            failures=failures,
            changed_at=now,
            opened_at=now,
            next_probe_at=now + config.probe_interval,
        ), None
    if state.state == HALF_OPEN and admission.probe_id and admission.probe_id == state.probe_id:
        return replace(
            state,
            state=OPEN,
            failures=failures,
            changed_at=now,
            next_probe_at=now + config.probe_interval,
            probe_id=None,
            probe_until=None,
        ), None
    return replace(state, failures=failures), None


def transition(before: BreakerState, after: BreakerState | None, now: float) -> Transition | None:
    if after is None or after.state == before.state or after.opened_at is None:
        return None
    return Transition(before.state, after.state, episode_id(after.opened_at), now, after)


# --- the stores ----------------------------------------------------------------------------


class CircuitBreaker(Protocol):
    def admit(self) -> Admission: ...

    def record_success(self, admission: Admission) -> None: ...

    def record_failure(self, admission: Admission) -> None: ...

    def snapshot(self) -> tuple[BreakerState, float]:
        """The state and the store's current time."""
        ...


Step = Callable[[BreakerState, float], tuple[BreakerState | None, T]]


class _BreakerBase:
    def __init__(
        self,
        *,
        failure_threshold: int,
        probe_interval: float,
        probe_timeout: float,
        on_change: Callable[[Transition], None] | None,
        name: str = "",
    ) -> None:
        self.config = BreakerConfig(failure_threshold, probe_interval, probe_timeout)
        self.on_change = on_change
        # Whose breaker, for its log lines ("account default"); never a token.
        self.name = name

    def _run(self, step: Step[T], fallback: T) -> T:
        """Apply `step` to the stored state; `fallback` is the answer when the store fails."""
        raise NotImplementedError

    def admit(self) -> Admission:
        return self._run(self._admit_step(), ALLOW_UNGUARDED)

    def _admit_step(self) -> Step[Admission]:
        """`admit` for one caller (its own probe id, should it become the probe)."""
        probe_id = uuid.uuid4().hex
        return lambda state, now: admit(state, now, self.config, probe_id)

    def record_success(self, admission: Admission) -> None:
        if admission.probe_id is None and admission.failures_seen == 0:
            return  # the common case: closed, nothing to reset, no round trip
        self._run(lambda state, now: on_success(state, now, admission), None)

    def record_failure(self, admission: Admission) -> None:
        self._run(lambda state, now: on_failure(state, now, self.config, admission), None)

    def _announce(self, change: Transition | None) -> None:
        if change is None:
            return
        logger.warning(
            "integrator.io circuit breaker%s %s -> %s (episode %s, %d failures)",
            f" of {self.name}" if self.name else "",
            change.previous,
            change.current,
            change.episode,
            change.state.failures,
        )
        if self.on_change is None:
            return
        try:
            self.on_change(change)
        except Exception:
            logger.exception("circuit breaker on_change hook failed")


class LocalCircuitBreaker(_BreakerBase):
    """The breaker in this process's memory (thread-safe); `clock` returns epoch seconds."""

    def __init__(
        self,
        *,
        failure_threshold: int = DEFAULT_FAILURE_THRESHOLD,
        probe_interval: float = DEFAULT_PROBE_INTERVAL,
        probe_timeout: float = DEFAULT_PROBE_TIMEOUT,
        on_change: Callable[[Transition], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(
            failure_threshold=failure_threshold,
            probe_interval=probe_interval,
            probe_timeout=probe_timeout,
            on_change=on_change,
        )
        self.clock = clock
        self._state = BreakerState()
        self._lock = threading.Lock()

    def _run(self, step: Step[T], fallback: T) -> T:
        with self._lock:
            now = self.clock()
            before = self._state
            after, result = step(before, now)
            if after is not None:
                self._state = after
        self._announce(transition(before, after, now))
        return result

    def snapshot(self) -> tuple[BreakerState, float]:
        with self._lock:
            return self._state, self.clock()


_FIELDS = (
    "state",
    "failures",
    "changed_at",
    "opened_at",
    "next_probe_at",
    "probe_id",
    "probe_until",
)
_FLOAT_FIELDS = ("changed_at", "opened_at", "next_probe_at", "probe_until")
# Optimistic transactions that lose a race read again; past this many, the update is dropped
# (a failure not counted, a success not reset): the next call tries again.
_MAX_TRANSACTION_ATTEMPTS = 8
# Keep an idle breaker's hash for a week: long enough to say when the last outage was.
_KEY_TTL_MS = 7 * 24 * 3600 * 1000


def _decode(raw: dict[bytes, bytes]) -> BreakerState:
    values = {k.decode(): v.decode() for k, v in raw.items()}
    if not values.get("state"):
        return BreakerState()
    return BreakerState(
        state=values["state"],
        failures=int(values.get("failures") or 0),
        probe_id=values.get("probe_id") or None,
        **{name: float(values[name]) if values.get(name) else None for name in _FLOAT_FIELDS},
    )


def _encode(state: BreakerState) -> dict[str, str]:
    fields = {}
    for name in _FIELDS:
        value = getattr(state, name)
        fields[name] = (
            "" if value is None else (f"{value:.6f}" if name in _FLOAT_FIELDS else str(value))
        )
    return fields


def _seconds(redis_time: tuple[int, int]) -> float:
    return redis_time[0] + redis_time[1] / 1_000_000


class RedisCircuitBreaker(_BreakerBase):
    """The breaker in one Redis hash, `<key_prefix>:<sha256(token)[:16]>`, shared by every
    process that uses the same prefix and token.

    The usual call costs one round trip (read the hash and the server's time); only failures,
    transitions and the first success after a failure write. If Redis fails, the breaker lets
    every call through and records nothing (a warning is logged when that starts, at most
    every 30 s): a courtesy device that is down must not become an outage of its own.
    """

    def __init__(
        self,
        client: redis.Redis,
        *,
        token: str,
        key_prefix: str = "integrator:breaker",
        failure_threshold: int = DEFAULT_FAILURE_THRESHOLD,
        probe_interval: float = DEFAULT_PROBE_INTERVAL,
        probe_timeout: float = DEFAULT_PROBE_TIMEOUT,
        on_change: Callable[[Transition], None] | None = None,
        name: str = "",
    ) -> None:
        super().__init__(
            failure_threshold=failure_threshold,
            probe_interval=probe_interval,
            probe_timeout=probe_timeout,
            on_change=on_change,
            name=name,
        )
        self.key = f"{key_prefix}:{fingerprint(token)}"
        self._redis = client
        self._redis_outage = RedisOutageLog(logger, "circuit breaker")

    def __repr__(self) -> str:
        return f"RedisCircuitBreaker(key={self.key!r}, config={self.config!r})"

    def _read(self) -> tuple[BreakerState, float]:
        pipe = self._redis.pipeline(transaction=False)
        pipe.hgetall(self.key)
        pipe.time()
        raw, now = pipe.execute()
        return _decode(raw), _seconds(now)

    def admit_unless_paused(self, pause_key: str) -> tuple[float, Admission | None]:
        """The Retry-After pause held at `pause_key` (integrator.pause) and this breaker,
        asked together before a call leaves: (the seconds the pause still holds, None) while
        it holds, else (0.0, the call's admission). One round trip for both in the usual case
        (a write, such as claiming the probe, takes its transaction as `admit` does). If Redis
        fails: no pause, and the call goes through, as each of them alone would decide."""
        step = self._admit_step()
        try:
            pipe = self._redis.pipeline(transaction=False)
            pipe.pttl(pause_key)
            pipe.hgetall(self.key)
            pipe.time()
            pause_ms, raw, now = pipe.execute()
            pause_ms = pause_ms_capped(self._redis, pause_key, pause_ms)
        except redis.RedisError as error:
            self._redis_outage.failed(error)
            return 0.0, ALLOW_UNGUARDED
        if pause_ms and pause_ms > 0:
            return pause_ms / 1000, None
        after, admission = step(_decode(raw), _seconds(now))
        if after is None:
            return 0.0, admission
        return 0.0, self._run(step, ALLOW_UNGUARDED)

    def uses(self, client: redis.Redis) -> bool:
        return self._redis is client

    def _run(self, step: Step[T], fallback: T) -> T:
        try:
            return self._apply(step)
        except redis.RedisError as error:
            self._redis_outage.failed(error)
            return fallback

    def _apply(self, step: Step[T]) -> T:
        before, now = self._read()
        after, result = step(before, now)
        if after is None:
            return result  # nothing to write: no transaction needed
        for _ in range(_MAX_TRANSACTION_ATTEMPTS):
            with self._redis.pipeline(transaction=True) as pipe:
                try:
                    pipe.watch(self.key)
                    before = _decode(pipe.hgetall(self.key))
                    now = _seconds(pipe.time())
                    after, result = step(before, now)
                    if after is None:
                        return result
                    pipe.multi()
                    pipe.hset(self.key, mapping=_encode(after))
                    pipe.pexpire(self.key, _KEY_TTL_MS)
                    pipe.execute()
                except redis.WatchError:
                    continue
            self._announce(transition(before, after, now))
            return result
        logger.info("circuit breaker update lost %d races; dropped", _MAX_TRANSACTION_ATTEMPTS)
        return result

    def snapshot(self) -> tuple[BreakerState, float]:
        """Raises redis.RedisError when Redis cannot say (the caller reports it)."""
        return self._read()

    def reset(self) -> None:
        """Forget the breaker's state (closed, no history). For tests and operators."""
        self._redis.delete(self.key)
