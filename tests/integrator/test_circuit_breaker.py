"""The circuit breaker: its state machine on a fake clock, and its Redis store shared by
several processes (exactly one probe), failing open when Redis is down."""

import multiprocessing
import os
import time
import uuid

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from integrator.circuit_breaker import (
    CLOSED,
    HALF_OPEN,
    OPEN,
    LocalCircuitBreaker,
    RedisCircuitBreaker,
)

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
TOKEN = "breaker-test-token"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def changes():
    return []


@pytest.fixture
def breaker(clock, changes):
    return LocalCircuitBreaker(
        failure_threshold=3,
        probe_interval=10,
        probe_timeout=30,
        on_change=changes.append,
        clock=clock,
    )


def fail(breaker, times=1):
    for _ in range(times):
        breaker.record_failure(breaker.admit())


def state(breaker):
    return breaker.snapshot()[0]


def test_it_opens_after_consecutive_failures_only(breaker, changes):
    fail(breaker, 2)
    breaker.record_success(breaker.admit())  # any answer but a 5xx resets the count
    fail(breaker, 2)
    assert state(breaker).state == CLOSED
    fail(breaker)
    assert state(breaker).state == OPEN
    assert [(c.previous, c.current) for c in changes] == [(CLOSED, OPEN)]


def test_it_fails_fast_until_the_next_probe_is_due(breaker, clock):
    fail(breaker, 3)
    clock.advance(4)
    admission = breaker.admit()
    assert not admission.allowed
    assert admission.retry_after == pytest.approx(6)


def test_it_lets_exactly_one_probe_through_when_due(breaker, clock):
    fail(breaker, 3)
    clock.advance(10)
    probe = breaker.admit()
    others = [breaker.admit() for _ in range(5)]
    assert probe.allowed and probe.probe_id
    assert not any(other.allowed for other in others)
    assert state(breaker).state == HALF_OPEN


def test_a_probe_success_closes_it_and_ends_the_episode(breaker, clock, changes):
    fail(breaker, 3)
    clock.advance(10)
    breaker.record_success(breaker.admit())
    assert state(breaker).state == CLOSED
    assert breaker.admit().allowed
    opened, probing, closed = changes
    assert (closed.previous, closed.current) == (HALF_OPEN, CLOSED)
    assert opened.episode == probing.episode == closed.episode


def test_a_probe_failure_reopens_it_for_another_interval(breaker, clock, changes):
    fail(breaker, 3)
    episode = state(breaker).episode
    clock.advance(10)
    fail(breaker)
    assert state(breaker).state == OPEN
    assert state(breaker).episode == episode  # still the same outage
    clock.advance(9)
    assert not breaker.admit().allowed
    clock.advance(1)
    assert breaker.admit().allowed


def test_a_late_success_of_an_older_call_does_not_close_it(breaker, clock):
    before = breaker.admit()  # sent while closed, answered after the breaker opened
    fail(breaker, 3)
    clock.advance(10)
    probe = breaker.admit()
    breaker.record_success(before)
    assert state(breaker).state == HALF_OPEN
    breaker.record_success(probe)
    assert state(breaker).state == CLOSED


def test_a_probe_that_never_reports_is_replaced_after_its_timeout(breaker, clock):
    fail(breaker, 3)
    clock.advance(10)
    lost = breaker.admit()
    clock.advance(29)
    assert not breaker.admit().allowed
    clock.advance(1)
    replacement = breaker.admit()
    assert replacement.allowed and replacement.probe_id != lost.probe_id
    breaker.record_success(lost)  # the lost probe's late answer is not the probe's any more
    assert state(breaker).state == HALF_OPEN


def test_a_new_outage_is_a_new_episode(breaker, clock, changes):
    fail(breaker, 3)
    clock.advance(10)
    breaker.record_success(breaker.admit())
    clock.advance(100)
    fail(breaker, 3)
    episodes = [c.episode for c in changes if c.current == OPEN and c.previous == CLOSED]
    assert len(set(episodes)) == 2


def test_a_failing_hook_does_not_change_the_outcome(clock):
    def boom(change):
        raise RuntimeError("hook")

    breaker = LocalCircuitBreaker(failure_threshold=1, on_change=boom, clock=clock)
    fail(breaker)
    assert state(breaker).state == OPEN


# --- the Redis store ---------------------------------------------------------------------


@pytest.fixture
def key_prefix():
    prefix = f"test-breaker-{uuid.uuid4().hex[:10]}"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(match=f"{prefix}:*"):
        client.delete(key)
    client.close()


def redis_breaker(key_prefix, **options):
    options.setdefault("failure_threshold", 3)
    options.setdefault("probe_interval", 0.5)
    return RedisCircuitBreaker(
        redis.Redis.from_url(REDIS_URL), token=TOKEN, key_prefix=key_prefix, **options
    )


def test_it_shares_its_state_through_redis(key_prefix):
    changes = []
    one = redis_breaker(key_prefix, on_change=changes.append)
    other = redis_breaker(key_prefix, on_change=changes.append)
    fail(one, 2)
    fail(other, 1)  # failures of every process count together
    assert not one.admit().allowed
    assert TOKEN not in one.key
    time.sleep(0.55)
    probe = other.admit()
    assert probe.allowed and not one.admit().allowed
    other.record_success(probe)
    assert one.admit().allowed
    # Each change announced once, by the process whose write made it.
    assert [(c.previous, c.current) for c in changes] == [
        (CLOSED, OPEN),
        (OPEN, HALF_OPEN),
        (HALF_OPEN, CLOSED),
    ]


def test_it_lets_calls_through_when_redis_is_down(caplog):
    unreachable = redis.Redis(host="127.0.0.1", port=1, retry=Retry(NoBackoff(), 0))
    breaker = RedisCircuitBreaker(
        unreachable, token=TOKEN, key_prefix="unused", failure_threshold=1
    )
    breaker.record_failure(breaker.admit())
    assert breaker.admit().allowed
    assert (
        caplog.text.count("circuit breaker unavailable, letting calls to integrator.io through")
        == 1
    )  # logged once, not per call


def _race_for_the_probe(key_prefix, start_at, results):
    breaker = redis_breaker(key_prefix)
    time.sleep(max(0.0, start_at - time.time()))
    probes = 0
    deadline = time.time() + 0.3
    while time.time() < deadline:
        if breaker.admit().allowed:
            probes += 1
    results.put(probes)


def test_exactly_one_process_gets_the_probe(key_prefix):
    breaker = redis_breaker(key_prefix, probe_interval=1.0)
    fail(breaker, 3)
    opened_at = time.time()
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    workers = [
        context.Process(target=_race_for_the_probe, args=(key_prefix, opened_at + 0.95, results))
        for _ in range(4)
    ]
    for worker in workers:
        worker.start()
    try:
        probes = [results.get(timeout=30) for _ in workers]
    finally:
        for worker in workers:
            worker.join(timeout=5)
    assert sum(probes) == 1
