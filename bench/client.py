"""Per-call overhead of IntegratorClient against a plain requests.Session, and limiter speed.

Starts its own sandbox (`python -m sandbox --memory`, rate limit raised out of the way) and
calls the same endpoint (GET /v1/tokenInfo) with:
  - a plain requests.Session (default settings, then trust_env=False like the client),
  - IntegratorClient without a rate limiter,
  - IntegratorClient with the Redis token bucket (a bucket too large to ever wait).
Variants are interleaved round by round and the median per-call time of each is compared, so
that drift on a shared machine hits them all alike.

Targets: the client adds <= 15% to the plain call; the Redis limiter sustains well over
300 acquisitions per second (integrator.io's per-account rate).

    .venv/bin/python bench/client.py [--calls 200] [--rounds 24]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import redis
import requests

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from integrator import IntegratorClient, RedisTokenBucket  # noqa: E402

TOKEN = "bench-integrator-token"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
MAX_OVERHEAD = 0.15
MIN_ACQUIRES_PER_SECOND = 300 * 5  # "well over 300/s"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_sandbox(port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "SANDBOX_API_TOKENS": TOKEN,
        "SANDBOX_RATE_LIMIT_BURST": "100000000",
        "SANDBOX_RATE_LIMIT_PER_SECOND": "100000000",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--memory", "--host", "127.0.0.1", "--port", str(port)],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 15
    url = f"http://127.0.0.1:{port}/v1/tokenInfo"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"sandbox exited: {process.stderr.read().decode()[-2000:]}")
        try:
            if requests.get(url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=1).ok:
                return process
        except requests.ConnectionError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("sandbox did not start within 15 s")


def per_call_us(call: Callable[[], object], calls: int) -> tuple[float, float]:
    """(wall, CPU of this process) microseconds per call."""
    started, cpu_started = time.perf_counter(), time.process_time()
    for _ in range(calls):
        call()
    wall = time.perf_counter() - started
    return wall / calls * 1e6, (time.process_time() - cpu_started) / calls * 1e6


def plain_session(api_url: str, *, trust_env: bool) -> Callable[[], object]:
    session = requests.Session()
    session.trust_env = trust_env
    url = f"{api_url}/tokenInfo"
    headers = {"Authorization": f"Bearer {TOKEN}", "Accept": "application/json"}

    def call() -> object:
        response = session.get(url, headers=headers, timeout=(5, 30))
        response.raise_for_status()
        return response.json()

    return call


def limiter_acquires_per_second(bucket: RedisTokenBucket, seconds: float) -> float:
    count = 0
    started = time.perf_counter()
    deadline = started + seconds
    while time.perf_counter() < deadline:
        bucket.acquire()
        count += 1
    return count / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=200, help="calls per variant per round")
    parser.add_argument("--rounds", type=int, default=24)
    args = parser.parse_args()

    port = free_port()
    sandbox = start_sandbox(port)
    redis_client = redis.Redis.from_url(REDIS_URL)
    key_prefix = f"bench-integrator-{uuid.uuid4().hex[:8]}"
    try:
        api_url = f"http://127.0.0.1:{port}/v1"
        bucket = RedisTokenBucket(
            redis_client,
            token=TOKEN,
            key_prefix=key_prefix,
            burst=100_000_000,
            per_second=100_000_000,
        )
        client = IntegratorClient(api_url, TOKEN)
        limited = IntegratorClient(api_url, TOKEN, rate_limiter=bucket)
        variants: dict[str, Callable[[], object]] = {
            "requests.Session (default)": plain_session(api_url, trust_env=True),
            "requests.Session (trust_env=False)": plain_session(api_url, trust_env=False),
            "IntegratorClient": client.get_token_info,
            "IntegratorClient + Redis limiter": limited.get_token_info,
        }
        for call in variants.values():  # warm up connections and code paths
            per_call_us(call, 50)
        samples: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
        names = list(variants)
        for round_number in range(args.rounds):
            # Rotate the order so that no variant always runs right after the same one.
            shift = round_number % len(names)
            for name in names[shift:] + names[:shift]:
                samples[name].append(per_call_us(variants[name], args.calls))
        medians = {
            name: statistics.median(wall for wall, _ in values) for name, values in samples.items()
        }
        cpu = {name: statistics.median(c for _, c in values) for name, values in samples.items()}
        unleased = RedisTokenBucket(
            redis_client,
            token=TOKEN + "-unleased",
            key_prefix=key_prefix,
            burst=100_000_000,
            per_second=100_000_000,
            lease=1,
        )
        acquires = limiter_acquires_per_second(unleased, 2.0)
        leased_acquires = limiter_acquires_per_second(bucket, 1.0)
    finally:
        for key in redis_client.scan_iter(match=f"{key_prefix}:*"):
            redis_client.delete(key)
        sandbox.terminate()
        sandbox.wait(timeout=10)

    print(f"GET /v1/tokenInfo on a local sandbox, median of {args.rounds} x {args.calls} calls")
    print(f"  {'variant':<38} {'wall us/call':>12} {'calls/s':>8} {'client CPU us/call':>19}")
    for name, value in medians.items():
        print(f"  {name:<38} {value:12.1f} {1e6 / value:8.0f} {cpu[name]:19.1f}")
    same_config = "requests.Session (trust_env=False)"
    default = "requests.Session (default)"
    ok = True
    print(
        "overhead: ratio of per-call time against a plain session with the same settings "
        "(target <= 1.15); CPU ratios are immune to other load on the machine"
    )
    for name in ("IntegratorClient", "IntegratorClient + Redis limiter"):
        ratio = medians[name] / medians[same_config]
        verdict = "ok" if ratio <= 1 + MAX_OVERHEAD else "OVER TARGET"
        ok &= ratio <= 1 + MAX_OVERHEAD
        print(
            f"  {name:<38} wall x{ratio:.3f} ({verdict}), CPU x{cpu[name] / cpu[same_config]:.3f}; "
            f"vs default session: wall x{medians[name] / medians[default]:.3f}"
        )
    verdict = "ok" if acquires >= MIN_ACQUIRES_PER_SECOND else "UNDER TARGET"
    ok &= acquires >= MIN_ACQUIRES_PER_SECOND
    print(
        f"Redis limiter, one process: {acquires:.0f} acquisitions/s one round trip each "
        f"({verdict}; need >> 300/s), {leased_acquires:.0f}/s while leasing from a full bucket"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
