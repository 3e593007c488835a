"""The sliding-window counters behind the bounds on credential submissions and failed admin
sign-ins, against the run's real Redis."""

import time
import uuid

import pytest
import redis

from core.namespace import redis_key
from core.redis_state import state_redis
from core.sliding_window import window_add, window_take, window_wait


@pytest.fixture
def key():
    name = redis_key(f"test:sliding-window:{uuid.uuid4().hex}")
    client = state_redis()  # the run's Redis, even when a test points REDIS_URL elsewhere
    yield name
    client.delete(name)


def test_take_counts_up_to_the_limit_then_names_the_wait(key):
    assert [window_take(key, window=60, limit=3) for _ in range(3)] == [0, 0, 0]

    wait = window_take(key, window=60, limit=3)

    assert 59 <= wait <= 60
    assert state_redis().zcard(key) == 3  # a refused event is not counted


def test_an_event_leaves_the_window_on_time(key):
    assert window_take(key, window=1, limit=1) == 0
    assert window_take(key, window=1, limit=1) == 1

    time.sleep(1.1)

    assert window_take(key, window=1, limit=1) == 0


def test_wait_reads_without_counting_and_add_counts_past_the_limit(key):
    assert window_wait(key, window=60, limit=2) == 0
    for _ in range(3):
        window_add(key, window=60)

    assert 59 <= window_wait(key, window=60, limit=2) <= 60
    assert state_redis().zcard(key) == 3
    assert 0 < state_redis().ttl(key) <= 61


def test_one_client_serves_the_whole_process():
    assert state_redis() is state_redis()


def test_redis_not_answering_reaches_the_caller(settings, key):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"

    with pytest.raises(redis.RedisError):
        window_take(key, window=60, limit=1)
