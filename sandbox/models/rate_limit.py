"""A leaky bucket per API token: `burst` deep, refilled at `per_second` (1000 and 300 upstream)."""

import math
import time


class LeakyBucket:
    def __init__(self, burst: int, per_second: float) -> None:
        self.burst = burst
        self.per_second = per_second
        self.tokens = float(burst)
        self.updated = time.monotonic()

    def take(self) -> float:
        """Take one request's token: 0 if granted, else the seconds until one is available."""
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.per_second)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.per_second


class RateLimiter:
    def __init__(self, burst: int, per_second: float) -> None:
        self.configure(burst, per_second)

    def configure(self, burst: int, per_second: float) -> None:
        """Change the limits; every bucket starts full again."""
        self.burst = burst
        self.per_second = per_second
        self.buckets: dict[str, LeakyBucket] = {}

    def retry_after(self, token: str) -> int:
        """0 when the request may go on, else the whole seconds to send in `Retry-After`."""
        bucket = self.buckets.get(token)
        if bucket is None:
            bucket = self.buckets[token] = LeakyBucket(self.burst, self.per_second)
        wait = bucket.take()
        return 0 if wait == 0 else max(1, math.ceil(wait))
