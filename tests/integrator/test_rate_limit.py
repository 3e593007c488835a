"""The token buckets: pacing, the wait bound, draining after a 429, and sharing through Redis."""

import multiprocessing
import os
import time
import uuid

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from integrator import LocalTokenBucket, RateLimitedError, RedisTokenBucket

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
TOKEN = "limiter-test-token-that-must-not-reach-redis"


@pytest.fixture
def redis_client():
    client = redis.Redis.from_url(REDIS_URL)
    yield client
    client.close()


@pytest.fixture
def key_prefix(redis_client):
    prefix = f"test-integrator-rate-{uuid.uuid4().hex[:10]}"
    yield prefix
    for key in redis_client.scan_iter(match=f"{prefix}:*"):
        redis_client.delete(key)


def test_it_grants_the_burst_at_once_then_paces_at_the_rate():
    # Slow enough that a loaded machine's scheduling noise (tens of ms) cannot blur the
    # difference between "at once" (0 s) and "paced" (0.1 s a token).
    bucket = LocalTokenBucket(burst=5, per_second=10, max_wait=1)
    started = time.monotonic()
    for _ in range(5):
        bucket.acquire()
    burst_seconds = time.monotonic() - started
    for _ in range(3):
        bucket.acquire()
    total_seconds = time.monotonic() - started
    assert burst_seconds < 0.2  # paced, the five would take 0.5 s
    assert 0.28 <= total_seconds < 0.6  # 3 more tokens at 10/s


def test_it_refuses_instead_of_waiting_past_max_wait():
    bucket = LocalTokenBucket(burst=1, per_second=2, max_wait=0.1)
    bucket.acquire()
    started = time.monotonic()
    with pytest.raises(RateLimitedError) as caught:
        bucket.acquire()
    assert time.monotonic() - started < 0.25  # refused at once, not after sleeping 0.5 s
    assert caught.value.retryable
    assert caught.value.retry_after == pytest.approx(0.5, abs=0.05)


def test_its_refusal_says_in_plain_words_why_the_call_was_not_sent():
    # A job's error read "rate limiter: the next token is 10.03s away, more than the 5.00s
    # bound": the limiter's own terms, to a person who sees only that the job waits.
    bucket = LocalTokenBucket(burst=1, per_second=2, max_wait=0.1)
    bucket.acquire()
    with pytest.raises(RateLimitedError) as caught:
        bucket.acquire()
    message = str(caught.value)
    assert "token" not in message and "bound" not in message
    assert "not sent" in message and "0.5 s" in message
    assert "integrator.io asked to wait" in message  # the usual cause of a long wait: a 429


def test_it_pauses_for_the_drained_seconds():
    bucket = LocalTokenBucket(burst=100, per_second=100, max_wait=2)
    bucket.drain(0.3)
    started = time.monotonic()
    bucket.acquire()
    assert 0.28 <= time.monotonic() - started < 0.7


def test_it_keys_the_redis_bucket_by_a_hash_of_the_token(redis_client, key_prefix):
    bucket = RedisTokenBucket(redis_client, token=TOKEN, key_prefix=key_prefix)
    bucket.acquire()
    keys = [key.decode() for key in redis_client.scan_iter(match=f"{key_prefix}:*")]
    assert keys == [bucket.key]
    assert TOKEN not in bucket.key
    assert TOKEN not in repr(bucket)
    assert all(TOKEN.encode() not in value for value in redis_client.hgetall(bucket.key).values())
    assert redis_client.pttl(bucket.key) > 0  # an idle bucket disappears by itself


def test_it_refuses_from_redis_past_max_wait(redis_client, key_prefix):
    bucket = RedisTokenBucket(
        redis_client, token=TOKEN, key_prefix=key_prefix, burst=2, per_second=1, max_wait=0.2
    )
    bucket.acquire()
    bucket.acquire()
    with pytest.raises(RateLimitedError) as caught:
        bucket.acquire()
    assert caught.value.retry_after == pytest.approx(1.0, abs=0.1)


def test_it_makes_every_sharer_pause_after_a_drain(redis_client, key_prefix):
    worker_a = RedisTokenBucket(redis_client, token=TOKEN, key_prefix=key_prefix, max_wait=2)
    worker_b = RedisTokenBucket(redis_client, token=TOKEN, key_prefix=key_prefix, max_wait=2)
    worker_a.drain(0.4)  # worker A saw a 429 with Retry-After
    started = time.monotonic()
    worker_b.acquire()
    assert 0.38 <= time.monotonic() - started < 0.8


def test_it_lets_calls_through_when_redis_is_down(caplog):
    unreachable = redis.Redis(host="127.0.0.1", port=1, retry=Retry(NoBackoff(), 0))
    bucket = RedisTokenBucket(unreachable, token=TOKEN, key_prefix="unused")
    assert bucket.acquire() == 0.0
    assert "rate limiter unavailable, letting calls to integrator.io through" in caplog.text
    assert "running open" not in caplog.text


def _hammer(redis_url, key_prefix, seconds, ready, go, start_at, results):
    bucket = RedisTokenBucket(
        redis.Redis.from_url(redis_url),
        token=TOKEN,
        key_prefix=key_prefix,
        burst=20,
        per_second=200,
        max_wait=1.0,
    )
    ready.put(True)
    go.wait(timeout=30)
    time.sleep(max(0.0, start_at.value - time.time()))
    granted = 0
    while True:
        bucket.acquire()
        if time.time() >= start_at.value + seconds:
            break
        granted += 1
    results.put(granted)


def test_it_holds_several_processes_to_the_shared_rate(key_prefix):
    processes, seconds, burst, rate = 4, 3.0, 20, 200
    context = multiprocessing.get_context("spawn")
    ready, results, go = context.Queue(), context.Queue(), context.Event()
    start_at = context.Value("d", 0.0)
    workers = [
        context.Process(
            target=_hammer, args=(REDIS_URL, key_prefix, seconds, ready, go, start_at, results)
        )
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    try:
        for _ in workers:
            ready.get(timeout=30)  # every interpreter is up before the clock starts
        start_at.value = time.time() + 0.2
        go.set()
        per_process = [results.get(timeout=30) for _ in workers]
    finally:
        for worker in workers:
            worker.join(timeout=5)
    allowed = burst + rate * seconds
    assert sum(per_process) <= allowed * 1.05
    assert sum(per_process) >= rate * seconds * 0.9  # the bucket is shared, not starved
    assert all(count > 0 for count in per_process)


@pytest.mark.parametrize("shared", [False, True])
def test_a_lane_above_a_floor_leaves_the_floor_to_the_interactive_lane(
    shared, redis_client, key_prefix
):
    def bucket(**options):
        if shared:
            return RedisTokenBucket(
                redis_client, token=TOKEN, key_prefix=key_prefix, lease=1, **options
            )
        return LocalTokenBucket(**options)

    background = bucket(burst=20, per_second=5, max_wait=0.05, floor=5)
    for _ in range(15):
        assert background.acquire() == 0.0
    with pytest.raises(RateLimitedError):
        background.acquire()  # the floor is not its to take
    if shared:
        interactive = RedisTokenBucket(
            redis_client, token=TOKEN, key_prefix=key_prefix, burst=20, per_second=5, lease=1
        )
        for _ in range(5):
            assert interactive.acquire() == 0.0  # the floor is there for it
    else:
        background.floor = 0
        for _ in range(5):
            assert background.acquire() == 0.0


def test_a_floor_must_stay_in_the_lower_quarter_of_the_bucket():
    with pytest.raises(ValueError):
        LocalTokenBucket(burst=20, floor=6)
