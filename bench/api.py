"""Throughput of the host app API against a bare DRF view, served the production way.

Serves the app with gunicorn (2 sync workers), PostgreSQL with persistent connections
(CONN_MAX_AGE=60) and DEBUG=0, in a database of its own with 200 tenants. Then drives, with
wrk (16 connections; a Python load generator if wrk is not installed), in interleaved rounds:
  - bare:   a plain DRF APIView + ModelSerializer returning one row, no authentication
            (the ceiling, measured in the same run);
  - detail: GET /api/v1/tenants/{external_id} with an API key;
  - bare list: the same plain view over the newest N rows (ModelSerializer, many=True);
  - list:   GET /api/v1/tenants?limit=N with an API key.
Prints req/s, p50 and p99 for each, and each endpoint's req/s as a ratio of the bare view's;
also the server-side CPU per request (gunicorn + its PostgreSQL backends) and its inverse
ratio, which stays put when other work on the machine moves req/s.
Target: >= 0.6 (req/s) for the detail against the bare view, and for the list against both
the bare view and the bare list of the same size. Exits 1 when one is missed.

    .venv/bin/python bench/api.py [--seconds 4] [--rounds 5] [--connections 16] [--list-limit 10]
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.harness import production_env

REPO_ROOT = Path(__file__).resolve().parents[1]
ADMIN_DSN = os.environ.get("BENCH_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
DB_NAME = "provisioning_bench_api"
TARGET_RATIO = 0.6
TENANTS = 200


@dataclass
class Result:
    name: str
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int = 0
    cpu_ms_per_request: float = 0.0


class CpuMeter:
    """CPU seconds of the server side: gunicorn's processes and their PostgreSQL backends.

    On a shared machine req/s moves with whatever else runs; CPU per request does not, so it
    is printed next to req/s to tell a slow endpoint from a busy machine.
    """

    def __init__(self, server: subprocess.Popen):
        self.server = server
        self.pids: list[int] = []

    def refresh(self) -> None:
        children = Path(f"/proc/{self.server.pid}/task/{self.server.pid}/children")
        workers = [int(pid) for pid in children.read_text().split()] if children.exists() else []
        with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
            backends = [
                row[0]
                for row in conn.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = %s", (DB_NAME,)
                )
            ]
        self.pids = [self.server.pid, *workers, *backends]

    def seconds(self) -> float:
        ticks = 0
        for pid in self.pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except (FileNotFoundError, PermissionError):
                continue
            ticks += int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def service_env(port: int) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.api_site.settings",
        "PYTHONPATH": str(REPO_ROOT),
        **production_env(),
        "INTEGRATOR_API_TOKEN": "bench-integrator-token",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB_NAME}",
        "CONN_MAX_AGE": "60",
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
        "PORT": str(port),
    }


def drop_database() -> None:
    with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


def recreate_database() -> None:
    drop_database()
    with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')


SEED = """
from api.api_keys import api_key_create
from tenants.demo_seed import DEMO_TEMPLATE_FILE
from tenants.models import TenantConnection
from tenants.services import template_document_read, template_load, tenant_create

template, _ = template_load(document=template_document_read(path=DEMO_TEMPLATE_FILE))
for n in range({tenants}):
    tenant, _ = tenant_create(
        external_id=f"bench-{{n:04d}}", name=f"Bench customer {{n}}", template=template,
        settings={{"store_id": f"store-{{n}}", "flows": {{"stock": n % 2 == 0}}}},
        allowed_origins=["https://app.example.com"],
    )
    TenantConnection.objects.filter(tenant=tenant, slot_key="shop").update(
        status="ok", connection_id=f"{{n:024x}}", field_values={{"base_url": "https://shop.example.com"}}
    )
_, key = api_key_create(name="bench", scopes=["tenants:read"])
print("KEY=" + key)
"""


def prepare(env: dict[str, str]) -> str:
    recreate_database()
    manage = [sys.executable, str(REPO_ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput"], env=env, check=True, capture_output=True)
    seeded = subprocess.run(
        [*manage, "shell", "-c", SEED.format(tenants=TENANTS)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return re.search(r"KEY=(\S+)", seeded.stdout).group(1)


def start_gunicorn(env: dict[str, str], port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "config.wsgi:application",
            "--workers",
            "2",
            "--worker-class",
            "sync",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(process.stderr.read().decode()) from None
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("gunicorn did not start")


def check(port: int, path: str, headers: dict[str, str]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    body = response.read()
    if response.status != 200:
        raise RuntimeError(f"GET {path} -> {response.status}: {body[:300]!r}")


_WRK_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _wrk_ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(number) * _WRK_UNITS[unit]


def run_wrk(name, port, path, headers, seconds, connections) -> Result:
    threads = str(min(2, connections))
    command = ["wrk", "-t", threads, "-c", str(connections), "-d", f"{seconds}s", "--latency"]
    for header, value in headers.items():
        command += ["-H", f"{header}: {value}"]
    out = subprocess.run(
        [*command, f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, check=True
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = _wrk_ms(re.search(r"\s50%\s+(\S+)", out).group(1))
    p99 = _wrk_ms(re.search(r"\s99%\s+(\S+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    total = int(re.search(r"(\d+) requests in", out).group(1))
    return Result(name, rps, p50, p99, int(bad.group(1)) if bad else 0, total)


def run_python(name, port, path, headers, seconds, connections) -> Result:
    """Fallback load generator: one keep-alive connection per thread."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        mine = []
        while time.monotonic() < stop:
            started = time.perf_counter()
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            mine.append((time.perf_counter() - started) * 1000)
            if response.status != 200:
                errors[0] += 1
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies.sort()
    return Result(
        name,
        len(latencies) / seconds,
        statistics.median(latencies),
        latencies[int(len(latencies) * 0.99) - 1],
        errors[0],
        len(latencies),
    )


def median_result(name: str, runs: list[Result]) -> Result:
    return Result(
        name,
        statistics.median(r.requests_per_second for r in runs),
        statistics.median(r.p50_ms for r in runs),
        statistics.median(r.p99_ms for r in runs),
        sum(r.errors for r in runs),
        sum(r.requests for r in runs),
        statistics.median(r.cpu_ms_per_request for r in runs),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--list-limit", type=int, default=10)
    args = parser.parse_args()

    port = free_port()
    env = service_env(port)
    key = prepare(env)
    server = start_gunicorn(env, port)
    drive = run_wrk if shutil.which("wrk") else run_python
    auth = {"Authorization": f"Bearer {key}"}
    targets = [
        ("bare DRF view, one row", "/bench/bare/bench-0100/", {}),
        ("GET /api/v1/tenants/{id}", "/api/v1/tenants/bench-0100", auth),
        (
            f"bare DRF list, {args.list_limit} rows",
            f"/bench/bare-list/?limit={args.list_limit}",
            {},
        ),
        (
            f"GET /api/v1/tenants?limit={args.list_limit}",
            f"/api/v1/tenants?limit={args.list_limit}",
            auth,
        ),
    ]
    rounds: dict[str, list[Result]] = {name: [] for name, _, _ in targets}
    try:
        for _, path, headers in targets:
            check(port, path, headers)
            drive("warm-up", port, path, headers, 2, args.connections)
        # Interleaved rounds, medians: drift on a shared machine hits every endpoint alike.
        meter = CpuMeter(server)
        meter.refresh()
        for _ in range(args.rounds):
            for name, path, headers in targets:
                before = meter.seconds()
                result = drive(name, port, path, headers, args.seconds, args.connections)
                spent = meter.seconds() - before
                result.cpu_ms_per_request = spent * 1000 / max(1, result.requests)
                rounds[name].append(result)
    finally:
        server.terminate()
        server.wait(timeout=15)
        drop_database()
    results = [median_result(name, rounds[name]) for name, _, _ in targets]

    bare, detail, bare_list, listed = results
    print(
        f"load generator: {drive.__name__[4:]}, {args.connections} connections, "
        f"median of {args.rounds} rounds of {args.seconds}s; gunicorn sync x2, PostgreSQL, "
        "CONN_MAX_AGE=60, DEBUG=0"
    )
    print(
        f"{'endpoint':<34} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'ratio':>7} {'errors':>7}"
        f" {'cpu ms/req':>11} {'cpu ratio':>10}"
    )
    for result in results:
        print(
            f"{result.name:<34} {result.requests_per_second:>8.0f} {result.p50_ms:>8.1f} "
            f"{result.p99_ms:>8.1f} {result.requests_per_second / bare.requests_per_second:>7.2f}"
            f" {result.errors:>7} {result.cpu_ms_per_request:>11.2f}"
            f" {bare.cpu_ms_per_request / result.cpu_ms_per_request:>10.2f}"
        )
    # The ratio column is against the one-row bare view. A page of N full tenant views is
    # also compared with a bare DRF list of the same N rows: the same page, without the API's
    # authentication, connections, jobs and settings.
    verdicts = [
        ("detail / bare one row", detail, bare),
        ("list / bare list of the same size", listed, bare_list),
        ("list / bare one row", listed, bare),
    ]
    met = True
    for label, result, ceiling in verdicts:
        ratio = result.requests_per_second / ceiling.requests_per_second
        verdict = "meets" if ratio >= TARGET_RATIO else "BELOW"
        met = met and ratio >= TARGET_RATIO
        print(f"{label} = {ratio:.2f} ({verdict} the {TARGET_RATIO} target)")
    return 0 if met and not any(r.errors for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
