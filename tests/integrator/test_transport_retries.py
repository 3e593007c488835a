"""Retry policy over real HTTP: what is retried, how long it waits, and what never is."""

import time

import pytest
import redis

from integrator import (
    BudgetSpentError,
    ConnectionFailedError,
    IntegratorClient,
    LocalTokenBucket,
    OutcomeUnknownError,
    RateLimitedError,
    RedisTokenBucket,
    UnavailableError,
)
from tests.integrator.conftest import closed_port
from tests.integrator.test_rate_limit import REDIS_URL


def test_it_retries_a_get_on_injected_5xx_until_it_succeeds(new_client, control):
    control.inject_fault("error", status=503, path="/v1/tokenInfo", times=1)
    control.inject_fault("error", status=502, path="/v1/tokenInfo", times=1)
    calls = []
    client = new_client(on_call=calls.append)
    assert client.get_token_info().user_id
    assert [(c.attempt, c.status) for c in calls] == [(1, 503), (2, 502), (3, 200)]
    assert calls[0].error_code == "internal_error"


def test_it_waits_for_retry_after_on_429(new_client, control):
    control.inject_fault("rate_limit", path="/v1/tokenInfo", times=1, retry_after=1)
    calls = []
    client = new_client(on_call=calls.append)
    started = time.monotonic()
    client.get_token_info()
    elapsed = time.monotonic() - started
    assert [c.status for c in calls] == [429, 200]
    assert 1.0 <= elapsed < 1.9


def test_it_does_not_start_a_wait_past_the_total_time_budget(new_client, control):
    control.inject_fault("rate_limit", path="/v1/tokenInfo", retry_after=5)
    client = new_client(max_retry_seconds=2)
    started = time.monotonic()
    with pytest.raises(RateLimitedError) as caught:
        client.get_token_info()
    assert time.monotonic() - started < 0.5  # gave up at once instead of sleeping 5 s
    assert caught.value.retry_after == 5


def test_it_stops_after_max_attempts_of_5xx(new_client, control):
    control.inject_fault("error", status=503, path="/v1/tokenInfo")
    calls = []
    client = new_client(max_attempts=3, on_call=calls.append)
    with pytest.raises(UnavailableError):
        client.get_token_info()
    assert [c.attempt for c in calls] == [1, 2, 3]


def test_it_retries_a_post_refused_with_429_and_creates_once(new_client, control):
    control.inject_fault(
        "rate_limit", path="/v1/integrations", method="POST", times=1, retry_after=1
    )
    client = new_client()
    created = client.create_integration({"name": "Tenant 1"})
    assert control.counts()["integrations"] == 1
    assert client.get_integration(created.id).name == "Tenant 1"


def test_it_never_resends_a_post_whose_answer_was_lost_after_commit(new_client, control):
    control.inject_fault("commit_then_drop", path="/v1/integrations", method="POST", times=1)
    calls = []
    client = new_client(on_call=calls.append)
    with pytest.raises(OutcomeUnknownError) as caught:
        client.create_integration({"name": "Tenant 1"})
    assert not caught.value.retryable
    assert control.counts()["integrations"] == 1  # it was created, exactly once
    posts = [e for e in control.requests_log() if e["method"] == "POST"]
    assert len(posts) == 1
    assert [(c.attempt, c.status, c.error_code) for c in calls] == [(1, None, "connection_lost")]


def test_it_never_resends_a_clone_or_a_run_whose_answer_was_lost(new_client, control, seeded):
    control.inject_fault("commit_then_drop", path="/v1/integrations/*/clone", times=1)
    control.inject_fault("commit_then_drop", path="/v1/flows/*/run", times=1)
    before = control.counts()
    client = new_client()
    with pytest.raises(OutcomeUnknownError):
        client.clone_integration(seeded["integrationId"], name="Tenant 9")
    with pytest.raises(OutcomeUnknownError):
        client.run_flow(seeded["flowIds"][0])
    after = control.counts()
    assert after["integrations"] == before["integrations"] + 1
    assert len(client.list_jobs(flow_id=seeded["flowIds"][0])) == 1


def test_it_retries_an_idempotent_put_whose_answer_was_lost(new_client, control, seeded):
    control.inject_fault("commit_then_drop", path="/v1/integrations/*", method="PUT", times=1)
    integration_id = seeded["integrationId"]
    client = new_client()
    updated = client.modify_integration(integration_id, lambda doc: doc.update(name="New"))
    assert updated.name == "New"
    puts = [e for e in control.requests_log() if e["method"] == "PUT"]
    assert len(puts) == 2


def test_it_times_out_a_hanging_read_and_retries_a_get(new_client, control):
    control.inject_fault("hang", path="/v1/tokenInfo", times=1, hang_seconds=3)
    calls = []
    client = new_client(timeout=(1, 0.5), on_call=calls.append)
    started = time.monotonic()
    client.get_token_info()
    elapsed = time.monotonic() - started
    assert [(c.status, c.error_code) for c in calls] == [(None, "read_timeout"), (200, None)]
    assert 0.5 <= elapsed < 2.5


def test_it_reports_a_timed_out_post_as_outcome_unknown(new_client, control):
    control.inject_fault("hang", path="/v1/integrations", method="POST", times=1, hang_seconds=2)
    client = new_client(timeout=(1, 0.3))
    started = time.monotonic()
    with pytest.raises(OutcomeUnknownError):
        client.create_integration({"name": "Tenant 1"})
    assert time.monotonic() - started < 1.5


def test_it_retries_a_post_that_could_not_connect(target):
    calls = []
    url = f"http://127.0.0.1:{closed_port()}/v1"
    client = IntegratorClient(url, target.token, max_attempts=2, on_call=calls.append)
    with client, pytest.raises(ConnectionFailedError) as caught:
        client.create_integration({"name": "Tenant 1"})
    assert caught.value.sent is False
    assert [(c.attempt, c.error_code) for c in calls] == [
        (1, "connect_failed"),
        (2, "connect_failed"),
    ]


def test_it_refuses_at_once_when_the_local_bucket_is_empty(new_client, control):
    bucket = LocalTokenBucket(burst=1, per_second=0.5, max_wait=0.1)
    calls = []
    client = new_client(rate_limiter=bucket, on_call=calls.append)
    client.get_token_info()
    control.clear_requests_log()
    with pytest.raises(RateLimitedError) as caught:
        client.get_token_info()
    assert caught.value.status is None
    assert caught.value.retry_after == pytest.approx(2, abs=0.1)
    assert control.requests_log() == []  # nothing was sent
    assert calls[-1].error_code == "rate_limit_wait"


def test_a_429_makes_every_client_sharing_the_bucket_pause(new_client, target, control):
    redis_client = redis.Redis.from_url(REDIS_URL)
    prefix = f"test-integrator-retries-{time.monotonic_ns()}"
    try:
        buckets = [
            RedisTokenBucket(redis_client, token=target.token, key_prefix=prefix) for _ in "ab"
        ]
        control.inject_fault("rate_limit", path="/v1/tokenInfo", times=1, retry_after=1)
        worker_a = new_client(rate_limiter=buckets[0], max_attempts=1)
        with pytest.raises(RateLimitedError):
            worker_a.get_token_info()
        worker_b = new_client(rate_limiter=buckets[1])
        started = time.monotonic()
        worker_b.get_token_info()
        assert 0.8 <= time.monotonic() - started < 1.8
    finally:
        for key in redis_client.scan_iter(match=f"{prefix}:*"):
            redis_client.delete(key)
        redis_client.close()


def test_a_time_budget_bounds_all_the_calls_of_a_client_together(new_client, control):
    # A person waits (a web request, 30 s before gunicorn kills its worker): each call had
    # its own 15 s timeout, and two slow calls in a row outlived the request.
    control.inject_fault("hang", path="/v1/tokenInfo", hang_seconds=3)
    calls = []
    client = new_client(timeout=(1, 2), budget_seconds=1.5, max_attempts=1, on_call=calls.append)
    started = time.monotonic()
    with pytest.raises(ConnectionFailedError):
        client.get_token_info()  # its read timeout cut to what is left of the budget
    first = time.monotonic() - started
    with pytest.raises(BudgetSpentError) as caught:
        client.get_token_info()  # nothing left: not sent at all
    assert 1.3 <= first < 1.9
    assert time.monotonic() - started < 1.9
    assert [(c.status, c.error_code) for c in calls] == [
        (None, "read_timeout"),
        (None, "time_budget_spent"),
    ]
    assert caught.value.retryable is False


def test_a_client_without_a_time_budget_keeps_each_calls_timeout(new_client, control):
    # The sandbox closes the connection after its hang: the call waited that long, and
    # was not cut.
    control.inject_fault("hang", path="/v1/tokenInfo", hang_seconds=1.2)
    calls = []
    client = new_client(timeout=(1, 3), max_attempts=1, on_call=calls.append)
    started = time.monotonic()
    for _ in range(2):
        with pytest.raises(ConnectionFailedError):
            client.get_token_info()
    assert time.monotonic() - started >= 2.4
    assert [c.error_code for c in calls] == ["connection_lost", "connection_lost"]


def test_a_call_the_budget_cut_short_is_no_verdict_on_the_platform(new_client, control):
    # The caller's budget ended the wait, not integrator.io: counted as a failure, a few
    # impatient requests opened the breaker for the whole deployment.
    from integrator.circuit_breaker import CLOSED, OPEN, LocalCircuitBreaker

    breaker = LocalCircuitBreaker(failure_threshold=1)
    control.inject_fault("hang", path="/v1/tokenInfo", hang_seconds=3)
    cut = new_client(timeout=(1, 2), budget_seconds=0.5, max_attempts=1, circuit_breaker=breaker)
    with pytest.raises(ConnectionFailedError):
        cut.get_token_info()
    assert breaker.snapshot()[0].state == CLOSED

    # The same slow answer outliving the call's own timeout is the platform's, with a budget
    # left over or none (a timeout of one number, as the service configures it).
    roomy = new_client(timeout=0.5, budget_seconds=20, max_attempts=1, circuit_breaker=breaker)
    with pytest.raises(ConnectionFailedError):
        roomy.get_token_info()
    assert breaker.snapshot()[0].state == OPEN
    breaker = LocalCircuitBreaker(failure_threshold=1)
    uncut = new_client(timeout=(1, 0.5), max_attempts=1, circuit_breaker=breaker)
    with pytest.raises(ConnectionFailedError):
        uncut.get_token_info()
    assert breaker.snapshot()[0].state == OPEN
