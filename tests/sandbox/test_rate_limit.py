"""The leaky bucket per token: a burst past the bucket gets 429 + Retry-After; the sustained
rate converges to the fill rate."""

import threading
import time

import requests

from tests.fixtures.sandbox import SandboxProcess


def _hammer(url: str, token: str, *, seconds: float, threads: int = 4, stop_at_429=False):
    """Send requests as fast as possible; returns [(monotonic time, response)]."""
    results: list[tuple[float, requests.Response]] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    stop = threading.Event()

    def worker() -> None:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        while time.monotonic() < deadline and not stop.is_set():
            response = session.get(url, timeout=5)
            with lock:
                results.append((time.monotonic(), response))
            if stop_at_429 and response.status_code == 429:
                stop.set()

    workers = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    return sorted(results, key=lambda item: item[0])


def test_it_answers_429_with_retry_after_past_the_default_bucket(sandbox_clean):
    # Conformance case 26: the upstream default bucket, 1000 deep. Its default refill (300 per
    # second) is slowed here: four client threads on a busy 2-core machine may not outrun
    # 300 requests a second, and then never see the bucket run dry (a CI run: no 429 in 8 s).
    assert sandbox_clean.control.config()["rate_limit_burst"] == 1000
    sandbox_clean.control.configure(rate_limit_per_second=50)
    started = time.monotonic()
    results = _hammer(
        sandbox_clean.api_url + "/tokenInfo", sandbox_clean.token, seconds=30, stop_at_429=True
    )
    granted = sum(1 for _, r in results if r.status_code == 200)
    elapsed = results[-1][0] - started
    # The full bucket, plus what refilled while the burst went on.
    assert 1000 <= granted <= 1000 + 50 * elapsed + 10
    refused = next(r for _, r in results if r.status_code == 429)
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.json()["errors"][0]["code"] == "rate_limited"
    assert "Retry after" in refused.json()["errors"][0]["message"]


def test_it_converges_to_the_fill_rate(sandbox_clean):
    # A bucket 0.3 s deep: a stall of the sandbox's loop shorter than that (other work on a
    # 2-core machine) loses no tokens, so the steady state shows the fill rate, not the
    # machine's load. With a burst of 5 a CI run lost more than half of them (46 of 100).
    sandbox_clean.control.configure(rate_limit_burst=30, rate_limit_per_second=100)
    results = _hammer(sandbox_clean.api_url + "/tokenInfo", sandbox_clean.token, seconds=2.6)
    assert any(r.status_code == 429 for _, r in results)
    start = results[0][0]
    late = [r for t, r in results if 0.6 <= t - start < 2.6]
    granted_late = sum(1 for r in late if r.status_code == 200)
    # Two seconds of steady state at 100/s: never more than that plus one bucket, and at
    # least half whenever the clients asked at least twice as fast; a limiter that refused
    # all but its burst would grant none of them.
    assert granted_late <= 200 + 30 + 10, granted_late
    if len(late) >= 400:
        assert granted_late >= 100, (granted_late, len(late))


def test_it_keeps_one_bucket_per_token(tmp_path):
    env = {
        "SANDBOX_API_TOKENS": "token-a, token-b",
        "SANDBOX_RATE_LIMIT_BURST": "3",
        "SANDBOX_RATE_LIMIT_PER_SECOND": "0.5",
    }
    process = SandboxProcess(env=env)
    try:
        url = process.base_url + "/v1/tokenInfo"

        def status(token: str) -> int:
            return requests.get(
                url, headers={"Authorization": f"Bearer {token}"}, timeout=5
            ).status_code

        # The readiness probe of the fixture used no token; each token has its own 3.
        assert [status("token-a") for _ in range(4)] == [200, 200, 200, 429]
        assert [status("token-b") for _ in range(3)] == [200, 200, 200]
        assert status("dev-integrator-token") == 401
    finally:
        process.stop()
