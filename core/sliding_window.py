"""Sliding-window counters in Redis, shared by every process: one sorted set per key whose
members are the events of the last `window` seconds, each operation one atomic script.

The scripts read the server's clock (TIME), so that processes with skewed clocks agree. Used
for the bound on credential submissions per link (connect.submission_limit) and on failed
admin sign-ins (core.login_limit); callers decide what Redis not answering means for them
(redis.RedisError reaches them).
"""

from __future__ import annotations

import math
import uuid

from core.redis_state import state_redis

# Drops the events that left the window; leaves `now`, `window` and `limit` for what follows.
_PRUNE = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) + tonumber(now_parts[2]) / 1000000
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
"""

# The seconds until the oldest event leaves the window (the window is full when this runs).
_OLDEST_WAIT = """
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return tostring(tonumber(oldest[2]) + window - now)
"""

# '0' when fewer than `limit` events are in the window, else the seconds until there are.
_WAIT = (
    _PRUNE
    + """
if redis.call('ZCARD', KEYS[1]) < limit then
  return '0'
end
"""
    + _OLDEST_WAIT
)

# As _WAIT, but an event is counted when there is room for it.
_TAKE = (
    _PRUNE
    + """
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('EXPIRE', KEYS[1], math.ceil(window) + 1)
  return '0'
end
"""
    + _OLDEST_WAIT
)

# Counts an event whatever the window holds.
_ADD = (
    _PRUNE
    + """
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('EXPIRE', KEYS[1], math.ceil(window) + 1)
return '0'
"""
)


def window_take(key: str, *, window: int, limit: int) -> int:
    """Counts one event and answers 0 when fewer than `limit` are in the window; otherwise
    counts nothing and answers the whole seconds (at least 1) until there is room."""
    return _seconds(state_redis().eval(_TAKE, 1, key, window, limit, uuid.uuid4().hex))


def window_wait(key: str, *, window: int, limit: int) -> int:
    """0 when fewer than `limit` events are in the window; else the seconds until there are."""
    return _seconds(state_redis().eval(_WAIT, 1, key, window, limit, ""))


def window_add(key: str, *, window: int) -> None:
    """Counts one event, with no limit."""
    state_redis().eval(_ADD, 1, key, window, 0, uuid.uuid4().hex)


def _seconds(answer: bytes | str) -> int:
    wait = float(answer)
    return max(1, math.ceil(wait)) if wait > 0 else 0
