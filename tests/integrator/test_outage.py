"""integrator.io having a bad hour, through the sandbox: the circuit breaker stops calls from
reaching a failing API, and a 429's Retry-After holds every process (sandbox request log)."""

import contextlib
import multiprocessing
import os
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import redis

from integrator import (
    CircuitOpenError,
    NotFoundError,
    OutcomeUnknownError,
    RateLimitedError,
    RedisTokenBucket,
    UnavailableError,
)
from integrator.circuit_breaker import CLOSED, OPEN, LocalCircuitBreaker, RedisCircuitBreaker
from integrator.pause import RedisSendPause
from integrator.transport import MAX_RETRY_AFTER_SECONDS
from tests.integrator.conftest import make_client

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
# A call that passed the pause check just before another process set the pause is still on
# its way; it may arrive this long after the 429 was answered.
IN_FLIGHT_GRACE_SECONDS = 0.05


def test_an_outage_opens_the_breaker_and_calls_stop_reaching_the_api(control, target):
    breaker = LocalCircuitBreaker(failure_threshold=3, probe_interval=0.5)
    client = make_client(target, circuit_breaker=breaker, max_attempts=3)
    control.inject_fault("error", status=503)
    control.clear_requests_log()
    with pytest.raises(UnavailableError):
        client.get_token_info()  # three attempts fail: the breaker opens
    with pytest.raises(CircuitOpenError) as opened:
        client.get_token_info()
    assert opened.value.retryable and 0 < opened.value.retry_after <= 0.5
    for _ in range(20):
        with pytest.raises(CircuitOpenError):
            client.get_token_info()
    assert len(control.requests_log()) == 3  # nothing left while open
    control.clear_faults()
    time.sleep(0.5)
    client.get_token_info()  # the probe
    assert breaker.snapshot()[0].state == CLOSED
    client.close()


def test_a_failed_probe_reopens_it(control, target):
    breaker = LocalCircuitBreaker(failure_threshold=1, probe_interval=0.3)
    client = make_client(target, circuit_breaker=breaker, max_attempts=1)
    control.inject_fault("error", status=502)
    with pytest.raises(UnavailableError):
        client.get_token_info()
    time.sleep(0.3)
    control.clear_requests_log()
    with pytest.raises(UnavailableError):
        client.get_token_info()  # the probe, failing
    with pytest.raises(CircuitOpenError):
        client.get_token_info()
    assert len(control.requests_log()) == 1
    assert breaker.snapshot()[0].state == OPEN
    client.close()


def test_a_tenants_own_4xx_never_opens_it(control, target):
    breaker = LocalCircuitBreaker(failure_threshold=2)
    client = make_client(target, circuit_breaker=breaker)
    for _ in range(5):
        with pytest.raises(NotFoundError):
            client.get_connection("000000000000000000000000")
    assert breaker.snapshot()[0].state == CLOSED
    client.close()


def test_a_lost_post_counts_as_unwell(control, target):
    breaker = LocalCircuitBreaker(failure_threshold=2)
    client = make_client(target, circuit_breaker=breaker)
    control.inject_fault("drop", method="POST")
    for _ in range(2):
        with pytest.raises(OutcomeUnknownError):
            client.create_connection({"type": "http", "name": "x", "http": {}})
    assert breaker.snapshot()[0].state == OPEN
    client.close()


# --- Retry-After holds for every process --------------------------------------------------


def _hammer(api_url, token, key_prefix, start_at, seconds, results):
    connection = redis.Redis.from_url(REDIS_URL)
    client = make_client(
        type("T", (), {"api_url": api_url, "token": token})(),
        rate_limiter=RedisTokenBucket(
            connection, token=token, key_prefix=key_prefix, burst=20, per_second=60, max_wait=3
        ),
        send_pause=RedisSendPause(connection, token=token, key_prefix=f"{key_prefix}:pause"),
        max_pause_wait=3,
        max_attempts=2,
    )
    time.sleep(max(0.0, start_at - time.time()))
    calls = 0
    while time.time() < start_at + seconds:
        with contextlib.suppress(RateLimitedError):
            client.get_token_info()
        calls += 1
    results.put(calls)


def test_no_call_of_any_process_arrives_inside_a_retry_after_window(control, target):
    key_prefix = f"test-pause-{uuid.uuid4().hex[:10]}"
    control.inject_fault(
        "rate_limit", path="/v1/tokenInfo", probability=0.03, times=3, retry_after=1
    )
    control.clear_requests_log()
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    start_at = time.time() + 2.0  # every interpreter is up before the clock starts
    workers = [
        context.Process(
            target=_hammer,
            args=(target.api_url, target.token, key_prefix, start_at, 5.0, results),
        )
        for _ in range(3)
    ]
    for worker in workers:
        worker.start()
    try:
        calls = [results.get(timeout=60) for _ in workers]
    finally:
        for worker in workers:
            worker.join(timeout=5)
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(match=f"{key_prefix}:*"):
            client.delete(key)
    assert all(calls)
    log = [entry for entry in control.requests_log() if entry["path"] == "/v1/tokenInfo"]
    refused = [entry for entry in log if entry["status"] == 429]
    assert refused, "the fault never fired"
    windows = [
        (e["at"] + e["ms"] / 1000 + IN_FLIGHT_GRACE_SECONDS, e["at"] + e["ms"] / 1000 + 1.0)
        for e in refused
    ]
    inside = [
        entry
        for entry in log
        if entry not in refused and any(start < entry["at"] < end for start, end in windows)
    ]
    assert inside == []


# --- The pause and the breaker, asked of Redis together ------------------------------------


class _CountingPool(redis.ConnectionPool):
    """A real pool that counts round trips: each command or pipeline takes a connection."""

    taken = 0

    def get_connection(self, *args, **kwargs):
        self.taken += 1
        return super().get_connection(*args, **kwargs)


def test_the_pause_and_the_breaker_cost_one_redis_round_trip_a_call_and_still_hold(control, target):
    pool = _CountingPool.from_url(REDIS_URL)
    connection = redis.Redis(connection_pool=pool)
    key_prefix = f"test-preflight-{uuid.uuid4().hex[:10]}"
    breaker = RedisCircuitBreaker(
        connection, token=target.token, key_prefix=f"{key_prefix}:breaker", failure_threshold=2
    )
    pause = RedisSendPause(connection, token=target.token, key_prefix=f"{key_prefix}:pause")
    client = make_client(
        target, circuit_breaker=breaker, send_pause=pause, max_pause_wait=3, max_attempts=1
    )
    try:
        client.get_token_info()  # the scripts and the connection are set up
        before = pool.taken
        for _ in range(5):
            client.get_token_info()
        assert pool.taken - before == 5

        # A pause another process set holds this call back until it ends.
        pause.pause(0.4)
        started = time.monotonic()
        client.get_token_info()
        assert time.monotonic() - started >= 0.4

        # An open breaker fails the call fast, without a request leaving.
        control.inject_fault("error", status=503)
        for _ in range(2):
            with pytest.raises(UnavailableError):
                client.get_token_info()
        control.clear_requests_log()
        with pytest.raises(CircuitOpenError):
            client.get_token_info()
        assert control.requests_log() == []
    finally:
        client.close()
        for key in connection.scan_iter(match=f"{key_prefix}:*"):
            connection.delete(key)
        connection.close()


# --- A Retry-After past all reason ---------------------------------------------------------


def test_a_retry_after_of_a_year_pauses_the_deployment_minutes_not_a_year(control, target):
    """One 429 asking for a year (a proxy's or a gateway's mistake) paused every call of the
    account for that year: every job, check and form answered "retry after 31535999 seconds"
    while /readyz said ok. The pause holds at most MAX_RETRY_AFTER_SECONDS; if integrator.io
    still refuses after it, its next 429 pauses again."""
    connection = redis.Redis.from_url(REDIS_URL)
    pause = RedisSendPause(
        connection, token=target.token, key_prefix=f"test-cap-{uuid.uuid4().hex[:10]}:pause"
    )
    client = make_client(target, send_pause=pause, max_pause_wait=0.1, max_attempts=1)
    control.inject_fault("rate_limit", path="/v1/tokenInfo", times=1, retry_after=31536000)
    try:
        with pytest.raises(RateLimitedError) as refused:
            client.get_token_info()
        assert refused.value.retry_after <= MAX_RETRY_AFTER_SECONDS
        assert 0 < pause.remaining() <= MAX_RETRY_AFTER_SECONDS
    finally:
        pause.reset()
        client.close()


def test_a_retry_after_of_infinity_is_a_capped_pause_not_a_crash():
    """`Retry-After: inf` read as an infinite float, and setting the pause raised
    OverflowError out of the call instead of a RateLimitedError."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(429)
            self.send_header("Retry-After", "inf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    connection = redis.Redis.from_url(REDIS_URL)
    token = f"inf-{uuid.uuid4().hex}"
    pause = RedisSendPause(connection, token=token, key_prefix=f"test-inf-{token}:pause")
    target = type("T", (), {"api_url": f"http://127.0.0.1:{server.server_port}/v1", "token": token})
    client = make_client(target(), send_pause=pause, max_pause_wait=0.1, max_attempts=1)
    try:
        with pytest.raises(RateLimitedError) as refused:
            client.get_token_info()
        assert refused.value.retry_after == MAX_RETRY_AFTER_SECONDS
        assert 0 < pause.remaining() <= MAX_RETRY_AFTER_SECONDS
    finally:
        pause.reset()
        client.close()
        server.shutdown()


@pytest.mark.parametrize("with_breaker", [False, True])
def test_a_pause_of_a_year_set_before_is_held_to_the_cap(target, with_breaker):
    """A pause set before the cap existed, or by a process of an older release still running
    during a deploy, held the account's calls for its whole year: it is cut to the cap when
    read."""
    connection = redis.Redis.from_url(REDIS_URL)
    key_prefix = f"test-old-pause-{uuid.uuid4().hex[:10]}"
    pause = RedisSendPause(connection, token=target.token, key_prefix=f"{key_prefix}:pause")
    breaker = (
        RedisCircuitBreaker(connection, token=target.token, key_prefix=f"{key_prefix}:breaker")
        if with_breaker
        else None
    )
    connection.set(pause.key, "1", px=365 * 24 * 3600 * 1000)
    client = make_client(
        target, send_pause=pause, circuit_breaker=breaker, max_pause_wait=0.1, max_attempts=1
    )
    try:
        with pytest.raises(RateLimitedError) as refused:
            client.get_token_info()
        assert refused.value.retry_after <= MAX_RETRY_AFTER_SECONDS
        assert 0 < connection.pttl(pause.key) <= MAX_RETRY_AFTER_SECONDS * 1000
    finally:
        pause.reset()
        if breaker is not None:
            breaker.reset()
        client.close()
