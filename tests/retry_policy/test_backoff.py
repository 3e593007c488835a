"""One backoff for every retry: exponential, jittered, at least Retry-After, capped."""

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from retry_policy import retry_after_seconds, retry_delay


@pytest.mark.parametrize("seed", range(20))
def test_equal_jitter_stays_between_half_and_all_of_the_exponential_step(seed):
    rng = random.Random(seed)
    for attempt, (low, high) in {1: (5, 10), 2: (10, 20), 3: (20, 40)}.items():
        delay = retry_delay(attempt=attempt, base=10, cap=600, rng=rng)
        assert low <= delay <= high


@pytest.mark.parametrize("seed", range(20))
def test_full_jitter_may_retry_at_once_but_never_past_the_step(seed):
    delay = retry_delay(attempt=3, base=0.5, cap=8, jitter="full", rng=random.Random(seed))
    assert 0 <= delay <= 2


def test_it_never_waits_longer_than_the_cap():
    assert retry_delay(attempt=20, base=10, cap=600) == 600
    assert retry_delay(attempt=1, base=10, cap=600, retry_after=3600) == 600


def test_retry_after_is_a_floor_with_a_spread_above_it():
    assert retry_delay(attempt=1, base=10, cap=600, retry_after=120) == 120
    rng = random.Random(3)
    spread = [retry_delay(attempt=1, base=1, cap=600, retry_after=100, spread=0.2, rng=rng)]
    spread += [retry_delay(attempt=1, base=1, cap=600, retry_after=100, spread=0.2, rng=rng)]
    assert all(100 <= d <= 120 for d in spread) and spread[0] != spread[1]


def test_it_reads_retry_after_as_seconds_or_an_http_date():
    now = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    assert retry_after_seconds("7") == 7
    assert retry_after_seconds(" 2.5 ") == 2.5
    assert retry_after_seconds("-3") == 0
    assert 89 <= retry_after_seconds(format_datetime(now + timedelta(seconds=90)), now=now) <= 90
    assert retry_after_seconds(format_datetime(now - timedelta(seconds=90)), now=now) == 0
    for unreadable in ("soon", "", None, "nan", "Sun, 06 Nov 1994 08:49:37"):
        assert retry_after_seconds(unreadable) is None, unreadable
