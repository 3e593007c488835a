"""Exponential backoff with jitter, at least what the other side asked for, capped.

    retry_delay(attempt=n, base=b, cap=c)    attempt n (1 for the first retry)

The exponential step is `b * 2**(n-1)`, spread by jitter:
- "equal" (tasks: jobs, deliveries, syncs): uniformly between half and all of the step, so
  that a retry never comes back at once, yet clients that failed together scatter; then
  capped at `c`;
- "full" (a call retried within one request): uniformly between 0 and the step capped at
  `c`, the shortest waits while still scattering.

A `retry_after` (the remote's Retry-After, or our own limiter's wait) is a floor: the delay is
at least that, plus up to `spread` of it at random, so that many clients paused by one 429 do
not all return in the same instant. The result never exceeds `cap`, except a `retry_after`
larger than `cap`, which is cut to `cap` too: a wait longer than the cap is not ours to make.
"""

from __future__ import annotations

import random
from typing import Literal

Jitter = Literal["equal", "full"]


def retry_delay(
    *,
    attempt: int,
    base: float,
    cap: float,
    retry_after: float | None = None,
    spread: float = 0.0,
    jitter: Jitter = "equal",
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait before retry number `attempt` (see the module docstring)."""
    uniform = (rng or random).uniform
    step = base * 2 ** max(0, attempt - 1)
    delay = uniform(0, min(cap, step)) if jitter == "full" else step * uniform(0.5, 1.0)
    if retry_after is not None and retry_after > 0:
        delay = max(delay, retry_after * (1 + uniform(0, spread) if spread else 1))
    return min(delay, cap)
