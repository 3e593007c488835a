"""Benchmark of the integrator.io sandbox (issue: "the sandbox must not be the bottleneck").

Run: .venv/bin/python bench/sandbox.py [--seconds 6] [--clients 32] [--rounds 3]

1. Throughput, latency off: concurrent aiohttp clients send a mix of GET by id (60%), list
   (20%) and PUT (20%) on /v1/integrations. The same clients hit a bare aiohttp server that
   answers a constant JSON body: the ceiling, measured in the same run, in alternating rounds.
   Printed: requests/s (medians), the ratio to the target (3 x integrator.io's 300/s = 900/s)
   and to the ceiling.
2. Concurrency, latency on: 100 ms latency is injected on /v1/*, and 100 requests go at once.
   Printed: the most requests in flight together (target >= 64) and wall time / latency
   (about 1 when sleeping requests do not block each other).

The sandbox runs as its own subprocess (--memory, rate limit raised out of the way).
"""

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
from aiohttp import web

REPO_ROOT = Path(__file__).resolve().parent.parent
TOKEN = "bench-token"
CONTROL = "bench-control"
TARGET_RPS = 900
TARGET_IN_FLIGHT = 64
LATENCY_MS = 100
LATENCY_REQUESTS = 100
INTEGRATIONS = 200
READY_LINE = "sandbox listening on "


def start_process(command: list[str], env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        command,
        cwd=REPO_ROOT,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        if line.startswith(READY_LINE):
            return process, line[len(READY_LINE) :].split()[0]
    process.kill()
    raise SystemExit(f"{command} did not start")


def stop_process(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


async def prepare(session: aiohttp.ClientSession, api: str) -> list[dict]:
    docs = []
    for number in range(INTEGRATIONS):
        body = {"name": f"Bench {number}", "settings": {"tenant": number, "flags": [1, 2, 3]}}
        async with session.post(f"{api}/integrations", json=body) as response:
            docs.append(await response.json())
    return docs


async def mixed_load(api: str, docs: list[dict], *, clients: int, seconds: float) -> float:
    """Requests per second of the GET/list/PUT mix with `clients` concurrent workers."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    connector = aiohttp.TCPConnector(limit=clients)
    done = 0
    errors = 0
    async with aiohttp.ClientSession(headers=headers, connector=connector) as session:
        deadline = time.monotonic() + seconds

        async def worker(seed: int) -> None:
            nonlocal done, errors
            rng = random.Random(seed)
            while time.monotonic() < deadline:
                doc = rng.choice(docs)
                roll = rng.random()
                if roll < 0.6:
                    request = session.get(f"{api}/integrations/{doc['_id']}")
                elif roll < 0.8:
                    request = session.get(f"{api}/integrations", params={"limit": "20"})
                else:
                    body = {"name": doc["name"], "settings": {"tenant": rng.random()}}
                    request = session.put(f"{api}/integrations/{doc['_id']}", json=body)
                async with request as response:
                    await response.read()
                    if response.status >= 400:
                        errors += 1
                done += 1

        started = time.monotonic()
        await asyncio.gather(*(worker(n) for n in range(clients)))
        elapsed = time.monotonic() - started
    if errors:
        print(f"  warning: {errors} error responses")
    return done / elapsed


async def ceiling_load(url: str, *, clients: int, seconds: float) -> float:
    connector = aiohttp.TCPConnector(limit=clients)
    done = 0
    async with aiohttp.ClientSession(connector=connector) as session:
        deadline = time.monotonic() + seconds

        async def worker() -> None:
            nonlocal done
            while time.monotonic() < deadline:
                async with session.get(url) as response:
                    await response.read()
                done += 1

        started = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(clients)))
        return done / (time.monotonic() - started)


async def in_flight_under_latency(base: str) -> tuple[int, float]:
    control = {"Authorization": f"Bearer {CONTROL}"}
    rule = {"path": "/v1/*", "method": "*", "fixedMs": LATENCY_MS, "jitterMs": 0}
    async with (
        aiohttp.ClientSession(headers=control) as session,
        session.put(f"{base}/_sandbox/latency", json={"rules": [rule]}) as response,
    ):
        response.raise_for_status()
    headers = {"Authorization": f"Bearer {TOKEN}"}
    connector = aiohttp.TCPConnector(limit=0)
    spans: list[tuple[float, float]] = []
    async with aiohttp.ClientSession(headers=headers, connector=connector) as session:

        async def call() -> None:
            started = time.monotonic()
            async with session.get(f"{base}/v1/tokenInfo") as response:
                await response.read()
                response.raise_for_status()
            spans.append((started, time.monotonic()))

        started = time.monotonic()
        await asyncio.gather(*(call() for _ in range(LATENCY_REQUESTS)))
        wall = time.monotonic() - started
    events = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans])
    current = peak = 0
    for _, change in events:
        current += change
        peak = max(peak, current)
    return peak, wall


def serve_ceiling() -> None:
    """A bare aiohttp server answering a constant JSON body: the ceiling of this machine."""
    body = json.dumps({"_id": "5eed00000000000000000a01", "name": "ceiling"})

    async def answer(request: web.Request) -> web.Response:
        return web.Response(text=body, content_type="application/json")

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/", answer)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        print(f"{READY_LINE}http://127.0.0.1:{runner.addresses[0][1]}", flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())


async def run(seconds: float, clients: int, rounds: int) -> None:
    env = {
        "SANDBOX_API_TOKENS": TOKEN,
        "SANDBOX_CONTROL_TOKEN": CONTROL,
        "SANDBOX_RATE_LIMIT_BURST": "100000000",
        "SANDBOX_RATE_LIMIT_PER_SECOND": "100000000",
    }
    sandbox, base = start_process([sys.executable, "-m", "sandbox", "--memory", "--port", "0"], env)
    ceiling_process, ceiling_url = start_process(
        [sys.executable, str(Path(__file__).resolve()), "--serve-ceiling"], {}
    )
    # Rounds alternate between the sandbox and the ceiling, so that load from elsewhere on the
    # machine weighs on both alike; the medians are compared.
    sandbox_rates, ceiling_rates = [], []
    try:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        async with aiohttp.ClientSession(headers=headers) as session:
            docs = await prepare(session, f"{base}/v1")
        await mixed_load(f"{base}/v1", docs, clients=clients, seconds=0.5)  # warm-up
        await ceiling_load(ceiling_url + "/", clients=clients, seconds=0.5)
        for _ in range(rounds):
            share = seconds / rounds
            sandbox_rates.append(
                await mixed_load(f"{base}/v1", docs, clients=clients, seconds=share)
            )
            ceiling_rates.append(
                await ceiling_load(ceiling_url + "/", clients=clients, seconds=share)
            )
        peak, wall = await in_flight_under_latency(base)
    finally:
        stop_process(sandbox)
        stop_process(ceiling_process)
    rps = statistics.median(sandbox_rates)
    ceiling = statistics.median(ceiling_rates)

    print(f"sandbox benchmark ({clients} concurrent clients, {seconds:g} s in {rounds} rounds)")
    print(f"  mix GET by id 60% / list 20% / PUT 20%: {rps:8.0f} req/s (median)")
    print(f"  ceiling (bare aiohttp, constant body):  {ceiling:8.0f} req/s (median)")
    print(f"  ratio to target {TARGET_RPS} req/s:          {rps / TARGET_RPS:8.2f}")
    print(f"  ratio to ceiling:                       {rps / ceiling:8.2f}")
    print(f"  latency {LATENCY_MS} ms, {LATENCY_REQUESTS} requests at once:")
    ratio = peak / TARGET_IN_FLIGHT
    print(f"    max in flight: {peak} (target >= {TARGET_IN_FLIGHT}): ratio {ratio:.2f}")
    print(f"    wall time / latency: {wall / (LATENCY_MS / 1000):.2f} (1.0 = no blocking)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--serve-ceiling", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.serve_ceiling:
        serve_ceiling()
        return
    asyncio.run(run(options.seconds, options.clients, options.rounds))


if __name__ == "__main__":
    main()
