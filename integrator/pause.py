""" "Paused until T": when integrator.io answers 429 with Retry-After, no call of the
deployment leaves before that time.

The token bucket's drain (integrator.rate_limit) paces the calls that reserve a token after
the 429, but a caller that reserved its token just before is already asleep and would wake
inside the window. So the transport looks at the pause after it has its token, just before
the request leaves: a caller whose token was reserved before the pause still waits it out.

The Redis pause is one key whose time to live is the pause: it is extended, never shortened,
so two 429s with different Retry-After values keep the longer. Its clock is the Redis
server's, like the bucket's. If Redis fails, calls go through (integrator.io's own 429s are
still honoured by the retrying call itself).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Protocol

import redis

from integrator.redaction import fingerprint
from integrator.redis_outage_log import RedisOutageLog

logger = logging.getLogger(__name__)


# The longest pause: a 429's Retry-After is taken for at most this long (integrator.transport).
# A pause stops every call of the account, so a value past all reason (a year from a proxy's
# mistake, `inf`) would stop them for that long; past this, the next call asks again, and a
# platform still refusing answers another 429, which pauses again.
MAX_PAUSE_SECONDS = 300.0
_MAX_PAUSE_MS = round(MAX_PAUSE_SECONDS * 1000)


def pause_ms_capped(client: redis.Redis, key: str, ttl_ms: int | None) -> int:
    """The pause `ttl_ms` read at `key`, cut to MAX_PAUSE_SECONDS there and then when it is
    longer: one set before the cap existed, or by a process of an older release still running
    during a deploy, would otherwise hold for its whole length."""
    if ttl_ms is None or ttl_ms <= _MAX_PAUSE_MS:
        return ttl_ms or 0
    client.pexpire(key, _MAX_PAUSE_MS)
    return _MAX_PAUSE_MS


# KEYS[1]: the pause key; ARGV[1]: milliseconds. Extends the pause, never shortens it.
_PAUSE_LUA = """
local ms = tonumber(ARGV[1])
if redis.call('PTTL', KEYS[1]) < ms then
  redis.call('SET', KEYS[1], '1', 'PX', ms)
end
return 1
"""


class SendPause(Protocol):
    def pause(self, seconds: float) -> None:
        """No call may leave for `seconds` from now (or longer, if already paused longer)."""
        ...

    def remaining(self) -> float:
        """Seconds until calls may leave again; 0.0 when not paused."""
        ...


class LocalSendPause:
    """The pause of one process (tests, scripts); `clock` is monotonic seconds."""

    def __init__(self, clock=time.monotonic) -> None:
        self.clock = clock
        self._until = 0.0
        self._lock = threading.Lock()

    def pause(self, seconds: float) -> None:
        with self._lock:
            self._until = max(self._until, self.clock() + seconds)

    def remaining(self) -> float:
        with self._lock:
            return max(0.0, self._until - self.clock())


class RedisSendPause:
    """The pause shared by every process through `<key_prefix>:<sha256(token)[:16]>`."""

    def __init__(self, client: redis.Redis, *, token: str, key_prefix: str) -> None:
        self.key = f"{key_prefix}:{fingerprint(token)}"
        self.redis = client
        self._script = client.register_script(_PAUSE_LUA)
        self._redis_outage = RedisOutageLog(logger, "send pause")

    def __repr__(self) -> str:
        return f"RedisSendPause(key={self.key!r})"

    def pause(self, seconds: float) -> None:
        if seconds <= 0:
            return
        try:
            ms = round(min(seconds, MAX_PAUSE_SECONDS) * 1000)
            self._script(keys=[self.key], args=[max(1, ms)])
        except redis.RedisError as error:
            self._redis_outage.failed(error)

    def reset(self) -> None:
        """Lift the pause at once. For tests and operators."""
        self.redis.delete(self.key)

    def remaining(self) -> float:
        try:
            ttl_ms = pause_ms_capped(self.redis, self.key, self.redis.pttl(self.key))
        except redis.RedisError as error:
            self._redis_outage.failed(error)
            return 0.0
        return ttl_ms / 1000 if ttl_ms and ttl_ms > 0 else 0.0
