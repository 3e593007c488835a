"""Token buckets that keep every worker under integrator.io's per-account rate limit.

integrator.io allows a burst of 1000 calls refilled at 300 per second per account
(docs/integrator-io.md, Transport). Every HTTP attempt first takes one token. Both buckets
work by reservation: a caller takes a token even when the bucket is empty (its count goes
negative) and sleeps until that token would have been refilled, so waiting callers are served
in order at exactly the refill rate, with one round trip each. A caller whose wait would
exceed `max_wait` takes nothing and gets a RateLimitedError with `retry_after` instead of
holding a worker slot.

Priority lanes: a bucket may be given a `floor`, a number of tokens its callers must leave
in the shared bucket. A floor of 0 (the interactive lane, and every bucket without lanes)
reserves as above. A caller with a floor above 0 never reserves: it takes a token only while
the bucket holds more than its floor, and otherwise sleeps for the refill it needs and
looks again, up to `max_wait`. With jobs at a small floor and background work at a larger
one, a saturating background leaves the bucket at its floor: a job still finds tokens above
it, and an interactive call finds the whole floor, so it goes out at once instead of queueing
behind seconds of reservations. Jobs saturating the bucket hold background work back
entirely (strict priority); they do not wait for it.

A 429 that still arrives (another client on the same account, a lower real limit) drains the
bucket to minus `Retry-After` seconds' worth of tokens: every worker sharing the bucket then
pauses for that long and resumes at the steady rate, not with a burst.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from typing import Protocol

import redis

from integrator.errors import RateLimitedError
from integrator.redaction import fingerprint
from integrator.redis_outage_log import RedisOutageLog

logger = logging.getLogger(__name__)

DEFAULT_BURST = 1000
DEFAULT_PER_SECOND = 300.0
DEFAULT_MAX_WAIT = 5.0
# A caller above a floor looks again no sooner than this: waiting callers polling the shared
# bucket every millisecond would cost more Redis round trips than they save.
MIN_POLL_SECONDS = 0.02


class RateLimiter(Protocol):
    def acquire(self) -> float:
        """Take one token, sleeping for it if needed; return the seconds slept."""
        ...

    def drain(self, seconds: float) -> None:
        """Make every user of the bucket pause for `seconds` (after a 429)."""
        ...


def _refused(wait: float, max_wait: float) -> RateLimitedError:
    # Read by people (a job's error, a log line): said in their terms, not the bucket's.
    return RateLimitedError(
        f"not sent: this account's calls to integrator.io are paced, and the next may leave in "
        f"{wait:.1f} s, longer than a call waits ({max_wait:.1f} s); the rate limit is reached, "
        "or integrator.io asked to wait (a 429 with Retry-After)",
        retry_after=wait,
    )


def _check_floor(floor: float, burst: int) -> None:
    # Above half the burst tokens are leased ten at a time; a floor up there would never hold.
    if not 0 <= floor <= burst / 4:
        raise ValueError("floor must be between 0 and a quarter of the burst")


def _take_above_floor(take, *, floor: float, max_wait: float) -> float:
    """Poll `take()` (-> (granted, wait hint)) until a token above `floor` is granted, within
    `max_wait`; return the seconds slept."""
    slept = 0.0
    while True:
        granted, hint = take()
        if granted:
            return slept
        if slept + hint > max_wait:
            raise _refused(slept + hint, max_wait)
        pause = max(hint, MIN_POLL_SECONDS) * random.uniform(1.0, 1.5)
        time.sleep(pause)
        slept += pause


class LocalTokenBucket:
    """An in-process bucket (thread-safe) for use without Redis: tests, scripts, one worker."""

    def __init__(
        self,
        *,
        burst: int = DEFAULT_BURST,
        per_second: float = DEFAULT_PER_SECOND,
        max_wait: float = DEFAULT_MAX_WAIT,
        floor: float = 0.0,
    ) -> None:
        if burst < 1 or per_second <= 0 or max_wait < 0:
            raise ValueError("burst must be >= 1, per_second > 0 and max_wait >= 0")
        _check_floor(floor, burst)
        self.burst = burst
        self.per_second = per_second
        self.max_wait = max_wait
        self.floor = floor
        self._tokens = float(burst)
        self._updated = time.monotonic()
        self._lock = threading.Lock()

    def _refill(self, now: float) -> None:
        elapsed = max(0.0, now - self._updated)
        self._tokens = min(float(self.burst), self._tokens + elapsed * self.per_second)
        self._updated = now

    def _take_above_floor(self) -> tuple[bool, float]:
        with self._lock:
            self._refill(time.monotonic())
            if self._tokens - 1 >= self.floor:
                self._tokens -= 1
                return True, 0.0
            return False, (self.floor + 1 - self._tokens) / self.per_second

    def acquire(self) -> float:
        if self.floor > 0:
            return _take_above_floor(
                self._take_above_floor, floor=self.floor, max_wait=self.max_wait
            )
        with self._lock:
            self._refill(time.monotonic())
            after = self._tokens - 1
            wait = -after / self.per_second if after < 0 else 0.0
            if wait > self.max_wait:
                raise _refused(wait, self.max_wait)
            self._tokens = after
        if wait:
            time.sleep(wait)
        return wait

    def drain(self, seconds: float) -> None:
        with self._lock:
            self._refill(time.monotonic())
            self._tokens = min(self._tokens, -seconds * self.per_second)


# KEYS[1]: the bucket hash {tokens, ts}. ARGV: burst, per_second, max_wait, drain_seconds,
# lease, floor. Uses the Redis server clock so that every host agrees on time. Returns
# {granted, count, wait}: `count` tokens were taken (more than one only as a lease from the top
# half of a well-filled bucket); `wait` is a string because Redis truncates Lua numbers.
_ACQUIRE_LUA = """
local burst = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local max_wait = tonumber(ARGV[3])
local drain = tonumber(ARGV[4])
local lease = tonumber(ARGV[5])
local floor = tonumber(ARGV[6])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = burst
  ts = now
end
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
local granted = 1
local count = 0
local wait = 0
if drain > 0 then
  tokens = math.min(tokens, -drain * rate)
elseif lease > 1 and tokens - lease >= burst / 2 then
  count = lease
  tokens = tokens - lease
elseif floor > 0 then
  if tokens - 1 >= floor then
    tokens = tokens - 1
    count = 1
  else
    granted = 0
    wait = (floor + 1 - tokens) / rate
  end
else
  local after = tokens - 1
  if after < 0 then wait = -after / rate end
  if wait > max_wait then granted = 0 else tokens = after; count = 1 end
end
redis.call('HSET', KEYS[1],
  'tokens', string.format('%.6f', tokens), 'ts', string.format('%.6f', now))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) / rate * 1000) + 1000)
return {granted, count, string.format('%.6f', wait)}
"""

# How often a failing Redis is reported while the limiter runs open.
# Leased tokens not spent within this time are dropped (never carried into a later burst).
LEASE_SECONDS = 0.5
DEFAULT_LEASE = 10


class RedisTokenBucket:
    """A bucket shared by every process and host through one Redis key per API token.

    The key is `<key_prefix>:<sha256(token)[:16]>`: the token itself never reaches Redis.

    Leasing: while the shared bucket is more than half full, one round trip takes `lease`
    tokens (default 10) that this instance then spends locally for up to 0.5 s. That takes the
    Redis round trip off most calls when there is slack. Every spent token still came from the
    shared bucket, and the lower half is always handed out one token at a time, so the rate
    stays exact when it matters. Unspent leased tokens are simply lost (safe side).

    If Redis cannot be reached the limiter lets calls through (and logs a warning at most
    every 30 s): integrator.io's own limit still applies and its 429s are retried, whereas
    stopping every call because a courtesy limiter is down would be an outage of our own.
    """

    def __init__(
        self,
        client: redis.Redis,
        *,
        token: str,
        key_prefix: str = "integrator:rate",
        burst: int = DEFAULT_BURST,
        per_second: float = DEFAULT_PER_SECOND,
        max_wait: float = DEFAULT_MAX_WAIT,
        lease: int = DEFAULT_LEASE,
        floor: float = 0.0,
    ) -> None:
        if burst < 1 or per_second <= 0 or max_wait < 0 or lease < 1:
            raise ValueError("burst and lease must be >= 1, per_second > 0 and max_wait >= 0")
        _check_floor(floor, burst)
        self.floor = floor
        self.key = f"{key_prefix}:{fingerprint(token)}"
        self.burst = burst
        self.per_second = per_second
        self.max_wait = max_wait
        self.lease = lease
        self._redis = client
        self._script = client.register_script(_ACQUIRE_LUA)
        self._redis_outage = RedisOutageLog(logger, "rate limiter")
        self._lock = threading.Lock()
        self._leased = 0
        self._lease_ends = 0.0

    def __repr__(self) -> str:
        return (
            f"RedisTokenBucket(key={self.key!r}, burst={self.burst}, "
            f"per_second={self.per_second}, max_wait={self.max_wait}, lease={self.lease}, "
            f"floor={self.floor})"
        )

    def _call(self, drain: float) -> tuple[bool, int, float]:
        granted, count, wait = self._script(
            keys=[self.key],
            args=[self.burst, self.per_second, self.max_wait, drain, self.lease, self.floor],
        )
        return bool(int(granted)), int(count), float(wait)

    def acquire(self) -> float:
        if self.lease > 1:
            with self._lock:
                if self._leased > 0 and time.monotonic() < self._lease_ends:
                    self._leased -= 1
                    return 0.0
        if self.floor > 0:
            return _take_above_floor(self._take_once, floor=self.floor, max_wait=self.max_wait)
        granted, wait = self._take_once()
        if not granted:
            raise _refused(wait, self.max_wait)
        if wait:
            time.sleep(wait)
        return wait

    def _take_once(self) -> tuple[bool, float]:
        """One round trip: (granted, wait). Granted with a wait is a reservation (floor 0);
        refused with a wait is the refill a caller above a floor needs before it looks again."""
        try:
            granted, count, wait = self._call(0)
        except redis.RedisError as error:
            self._redis_outage.failed(error)
            return True, 0.0
        if count > 1:
            with self._lock:
                self._leased = count - 1
                self._lease_ends = time.monotonic() + LEASE_SECONDS
        return granted, wait

    def drain(self, seconds: float) -> None:
        if seconds <= 0:
            return
        with self._lock:
            self._leased = 0
        try:
            self._call(seconds)
        except redis.RedisError as error:
            self._redis_outage.failed(error)

    def reset(self) -> None:
        """Forget the bucket's state (a full bucket again). For tests and operators."""
        with self._lock:
            self._leased = 0
        self._redis.delete(self.key)
