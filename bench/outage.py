"""integrator.io having a bad hour: worker processes against the sandbox, sharing one Redis
limiter, circuit breaker and Retry-After pause, as the service's processes do.

Three phases, each with `--processes` worker processes of `--threads` threads calling
GET /v1/tokenInfo in a loop:

1. **Outage**: every call answers 503 for `--outage-seconds`. Prints the calls that reached
   the failing API. Target: at most one probe per `--probe-seconds` over the outage, plus
   the breaker's threshold, plus one call in flight per thread when it opened.
2. **429 storm**: the sandbox answers 429 (Retry-After 1) to 3% of calls, three times.
   Prints the calls that arrived inside a Retry-After window (after the 429 was answered,
   plus 50 ms for calls already on the wire). Target: 0.
3. **Lanes**: the background lane saturates the limiter (`--rate` calls/s) while one process
   pings in the interactive lane every 50 ms; p95 of the ping's duration, with lanes on
   (background leaves 10% of the burst) and off (every caller reserves in turn: the code
   before lanes). A ping refused by the limiter counts as its 2 s bound.
   Target: p95 with lanes <= 100 ms.

    .venv/bin/python bench/outage.py [--processes 3] [--threads 8] [--outage-seconds 20]
        [--probe-seconds 2] [--storm-seconds 8] [--lane-seconds 8] [--rate 100]

Uses Redis db 15 under a key prefix of the run (removed at the end). About a minute.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

import redis  # noqa: E402

from bench.harness import REDIS_URL, Sandbox  # noqa: E402
from integrator import IntegratorClient, IntegratorError, RedisTokenBucket  # noqa: E402
from integrator.circuit_breaker import RedisCircuitBreaker  # noqa: E402
from integrator.pause import RedisSendPause  # noqa: E402

TOKEN = "bench-outage-token"
FAILURE_THRESHOLD = 5
GRACE_SECONDS = 0.05
INTERACTIVE_WAIT = 2.0
TARGET_PING_P95_MS = 100.0
# At most this long for the lanes phase's processes to start (spawned: each imports the client).
LANES_STARTUP_SECONDS = 60.0


def build_client(api_url, prefix, *, rate, probe_seconds, floor=0.0, max_wait=5.0):
    connection = redis.Redis.from_url(REDIS_URL)
    return IntegratorClient(
        api_url,
        TOKEN,
        timeout=(2, 5),
        max_attempts=2,
        max_retry_seconds=max_wait,
        rate_limiter=RedisTokenBucket(
            connection,
            token=TOKEN,
            key_prefix=f"{prefix}:rate",
            burst=int(rate),
            per_second=rate,
            max_wait=max_wait,
            floor=floor,
        ),
        circuit_breaker=RedisCircuitBreaker(
            connection,
            token=TOKEN,
            key_prefix=f"{prefix}:breaker",
            failure_threshold=FAILURE_THRESHOLD,
            probe_interval=probe_seconds,
            probe_timeout=10,
        ),
        send_pause=RedisSendPause(connection, token=TOKEN, key_prefix=f"{prefix}:pause"),
        max_pause_wait=max_wait,
    )


def worker(api_url, prefix, options, floor, stop_at, threads):
    """One worker process: `threads` threads calling until `stop_at` (epoch seconds)."""
    client = build_client(
        api_url, prefix, rate=options["rate"], probe_seconds=options["probe"], floor=floor
    )

    def loop():
        while time.time() < stop_at:
            try:
                client.get_token_info()
            except IntegratorError as error:
                # A refused call comes back later, as a task retry would.
                time.sleep(min(error.retry_after or 0.05, 0.5))

    pool = [threading.Thread(target=loop) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()


def pinger(api_url, prefix, options, seconds, results):
    """Pings for `seconds` from when it is up (not from when it was spawned, which can take
    seconds on a busy machine), once the background has saturated the bucket."""
    client = build_client(
        api_url,
        prefix,
        rate=options["rate"],
        probe_seconds=options["probe"],
        max_wait=INTERACTIVE_WAIT,
    )
    waits = []
    time.sleep(1.0)  # let the background saturate the bucket first
    stop_at = time.time() + seconds
    while time.time() < stop_at:
        started = time.perf_counter()
        try:
            client.get_token_info()
            waits.append((time.perf_counter() - started) * 1000)
        except IntegratorError:
            waits.append(INTERACTIVE_WAIT * 1000)
        time.sleep(0.05)
    results.put(waits)


def start(context, target, args):
    process = context.Process(target=target, args=args)
    process.start()
    return process


def run_workers(context, sandbox, prefix, options, *, seconds, floor=0.0, extra=()):
    stop_at = time.time() + seconds
    processes = [
        start(
            context, worker, (sandbox.api_url, prefix, options, floor, stop_at, options["threads"])
        )
        for _ in range(options["processes"])
    ]
    return processes + list(extra)


def phase_outage(context, sandbox, prefix, options, seconds) -> tuple[int, int]:
    processes = run_workers(context, sandbox, prefix, options, seconds=seconds + 6)
    time.sleep(3)  # workers up and calling
    sandbox.call("DELETE", "/requests")
    sandbox.call("POST", "/faults", json={"mode": "error", "path": "/v1/*", "status": 503})
    time.sleep(seconds)
    reached = [e for e in sandbox.call("GET", "/requests")["requests"] if e["fault"] == "error"]
    sandbox.call("DELETE", "/faults")
    for process in processes:
        process.join()
    in_flight = options["processes"] * options["threads"]
    bound = int(seconds / options["probe"]) + 1 + FAILURE_THRESHOLD + in_flight
    return len(reached), bound


def phase_storm(context, sandbox, prefix, options, seconds) -> tuple[int, int]:
    sandbox.call("DELETE", "/requests")
    fault = {"mode": "rate_limit", "path": "/v1/tokenInfo", "probability": 0.03, "times": 3}
    sandbox.call("POST", "/faults", json={**fault, "retryAfter": 1})
    processes = run_workers(context, sandbox, prefix, options, seconds=seconds)
    for process in processes:
        process.join()
    sandbox.call("DELETE", "/faults")
    log = [e for e in sandbox.call("GET", "/requests")["requests"] if e["path"] == "/v1/tokenInfo"]
    refused = [e for e in log if e["status"] == 429]
    windows = [
        (e["at"] + e["ms"] / 1000 + GRACE_SECONDS, e["at"] + e["ms"] / 1000 + 1.0) for e in refused
    ]
    inside = [e for e in log if e not in refused and any(a < e["at"] < b for a, b in windows)]
    return len(inside), len(refused)


def phase_lanes(context, sandbox, prefix, options, seconds, *, floor) -> list[float]:
    """The pinger's waits over `seconds` of saturated background: the workers call until it
    has measured them (they are stopped then), however long the processes took to start."""
    results = context.Queue()
    ping = start(context, pinger, (sandbox.api_url, prefix, options, seconds, results))
    processes = run_workers(
        context, sandbox, prefix, options, seconds=seconds + LANES_STARTUP_SECONDS, floor=floor
    )
    try:
        waits = results.get(timeout=seconds + LANES_STARTUP_SECONDS)
    finally:
        for process in processes:
            process.terminate()
        for process in [*processes, ping]:
            process.join()
    return waits


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 2 else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--outage-seconds", type=float, default=20)
    parser.add_argument("--probe-seconds", type=float, default=2)
    parser.add_argument("--storm-seconds", type=float, default=8)
    parser.add_argument("--lane-seconds", type=float, default=8)
    parser.add_argument("--rate", type=float, default=100)
    args = parser.parse_args()
    options = {
        "processes": args.processes,
        "threads": args.threads,
        "rate": args.rate,
        "probe": args.probe_seconds,
    }
    context = multiprocessing.get_context("spawn")
    sandbox = Sandbox(TOKEN)
    sandbox.set_latency(5)
    run = uuid.uuid4().hex[:8]
    try:
        reached, bound = phase_outage(
            context, sandbox, f"bench-outage-{run}-a", options, args.outage_seconds
        )
        print(
            f"outage {args.outage_seconds:.0f}s: {reached} calls reached the failing API "
            f"(target <= {bound}: one probe per {args.probe_seconds:.0f}s + threshold "
            f"{FAILURE_THRESHOLD} + {args.processes * args.threads} in flight)"
        )
        inside, storms = phase_storm(
            context, sandbox, f"bench-outage-{run}-b", options, args.storm_seconds
        )
        print(
            f"429 storm: {storms} x 429 (Retry-After 1s); {inside} calls inside a window (target 0)"
        )
        floor = args.rate * 0.10
        on = phase_lanes(
            context, sandbox, f"bench-outage-{run}-c", options, args.lane_seconds, floor=floor
        )
        off = phase_lanes(
            context, sandbox, f"bench-outage-{run}-d", options, args.lane_seconds, floor=0.0
        )
        print(
            f"interactive ping p95 under saturated background ({args.rate:.0f}/s): "
            f"lanes on {p95(on):.0f} ms ({len(on)} pings), lanes off {p95(off):.0f} ms "
            f"({len(off)} pings) (target with lanes <= {TARGET_PING_P95_MS:.0f} ms)"
        )
    finally:
        sandbox.stop()
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(match=f"bench-outage-{run}-*"):
            client.delete(key)
    missed = reached > bound or inside > 0 or not p95(on) <= TARGET_PING_P95_MS
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
