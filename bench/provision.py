"""Provisioning throughput: N tenants provisioned by real Celery workers against the sandbox.

Every integrator.io call pays `--latency-ms` (default 100 ms) in the sandbox, which allows
`--rate` calls per second (default 300, integrator.io's per-account rate; both the sandbox's
bucket and the service's own limiter get the same small `--burst`, so that the steady rate,
not the burst, is what is measured). The bound is that rate, or the sandbox's own ceiling at
this latency if lower (measured in the same run, with its limit lifted, by 96 threads).

Worker pool: provisioning is I/O bound, so **threads** pools carry it. A job spends ~0.15 s
per call waiting on the sandbox and ~0.07 s on its own bookkeeping (step transitions, the
fence, the call log: database round trips), so by Little's law 300 calls/s needs
300 x 0.22 = ~64 jobs in flight. The default is one worker process per core, 2 x 32 threads
(in interleaved runs it beat 1 x 64, whose threads, consumer thread included, all queue for
one GIL). Prefork with 2 processes would be ~30 times short. Each thread holds one
PostgreSQL connection: keep workers x concurrency well below the server's max_connections.
The workers reuse their database connections across tasks (CELERY_DB_REUSE_MAX in
bench/provision_settings.py): by default Celery closes them after every task, and
reconnecting cost ~5-10% of a worker's CPU.

Prints tenants/s, API calls/s, calls per tenant (per step), the ratio of calls/s to the bound,
429s seen, duplicates (more than one clone per tenant tag) and failed jobs.
Targets: ratio >= 0.8, 0 duplicates, 0 failed jobs. Exits 1 if one is missed.

    .venv/bin/python bench/provision.py [--tenants 200] [--latency-ms 100] [--rate 300]
        [--burst 100] [--concurrency 32] [--workers 2]

Uses PostgreSQL database `provisioning_bench_engine` (created and dropped) and Redis db 15
under a key prefix of the run (removed at the end).
"""

from __future__ import annotations

import argparse
import collections
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import redis
import requests

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from bench.harness import (  # noqa: E402
    REDIS_URL,
    Sandbox,
    database_url,
    drop_database,
    production_env,
    recreate_database,
)
from sandbox.demo_apps import DEMO_API_KEYS  # noqa: E402

DB_NAME = "provisioning_bench_engine"
TARGET_RATIO = 0.8


def sandbox_ceiling(sandbox: Sandbox, path: str, *, seconds: float, threads: int) -> float:
    """Calls/s the sandbox answers at the configured latency with its rate limit lifted."""
    deadline = time.monotonic() + seconds
    counts = [0] * threads

    def hammer(index: int) -> None:
        session = requests.Session()
        session.trust_env = False
        session.headers["Authorization"] = f"Bearer {sandbox.token}"
        while time.monotonic() < deadline:
            if session.get(sandbox.api_url + path, timeout=10).status_code == 200:
                counts[index] += 1

    started = time.monotonic()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(hammer, range(threads)))
    return sum(counts) / (time.monotonic() - started)


def start_workers(count: int, concurrency: int, env: dict, log_dir: Path) -> list:
    workers = []
    for index in range(count):
        log = open(log_dir / f"worker-{index}.log", "wb")  # noqa: SIM115 (closed with the process)
        workers.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "config",
                    "worker",
                    "--pool",
                    "threads",
                    "--concurrency",
                    str(concurrency),
                    "-Q",
                    "provisioning",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                    "--loglevel",
                    "WARNING",
                    "--hostname",
                    f"bench-{index}-{env['BENCH_RUN_ID']}@%h",
                ],
                cwd=REPO_ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
    return workers


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_for_workers(app, count: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(app.control.ping(timeout=0.5)) >= count:
            return
    raise RuntimeError("the workers did not answer a ping")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tenants", type=int, default=200)
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument("--rate", type=float, default=300.0)
    parser.add_argument("--burst", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=32, help="threads per worker")
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    options = parser.parse_args()

    run_id = uuid.uuid4().hex[:10]
    token = f"bench-{secrets.token_hex(8)}"
    log_dir = Path(tempfile.mkdtemp(prefix="bench-provision-"))
    recreate_database(DB_NAME)
    sandbox = Sandbox(token)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.provision_settings",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
        "BENCH_RUN_ID": run_id,
        **production_env(),
        "DATABASE_URL": database_url(DB_NAME),
        "REDIS_URL": REDIS_URL,
        "CELERY_BROKER_URL": REDIS_URL,
        "INTEGRATOR_API_URL": sandbox.api_url,
        "INTEGRATOR_API_TOKEN": token,
        "INTEGRATOR_RATE_LIMIT_PER_SECOND": str(options.rate),
        "INTEGRATOR_RATE_LIMIT_BURST": str(options.burst),
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    workers: list = []
    outcome = 1
    try:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput"],
            cwd=REPO_ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        import django

        django.setup()
        outcome = run(options, sandbox, env, log_dir, workers)
        return outcome
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            try:
                worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.kill()
        sandbox.stop()
        from django.db import connections

        connections.close_all()
        drop_database(DB_NAME)
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(match=f"bench-{run_id}:*", count=1000):
            client.delete(key)
        if outcome == 0:
            shutil.rmtree(log_dir, ignore_errors=True)
        else:
            print(f"worker logs kept in {log_dir}", file=sys.stderr)


def run(options, sandbox: Sandbox, env: dict, log_dir: Path, workers: list) -> int:
    from django.db.models import Avg, Count, F, Max, Min

    from config.celery import app
    from integrator.client import IntegratorClient
    from provisioning.models import ApiCall, Job, JobStatus, JobStep
    from provisioning.services import job_request
    from tenants.demo_seed import DEMO_TEMPLATE_FILE
    from tenants.services import (
        template_document_read,
        template_load,
        tenant_connection_submit,
        tenant_create,
    )

    seed = sandbox.call("POST", "/seed")
    template, _ = template_load(document=template_document_read(path=DEMO_TEMPLATE_FILE))

    print(f"setting up {options.tenants} tenants with working connections...", flush=True)
    client = IntegratorClient(sandbox.api_url, sandbox.token, timeout=30)

    def make_tenant(n: int):
        tenant, _ = tenant_create(
            external_id=f"bench-{n:04d}", name=f"Bench tenant {n}", template=template
        )
        for slot in template.slots:
            result = tenant_connection_submit(
                tenant=tenant,
                slot_key=slot["key"],
                values={
                    "base_url": f"{sandbox.base_url}/_demo/{slot['key']}",
                    "api_key": DEMO_API_KEYS[slot["key"]],
                },
                client=client,
            )
            assert result.ok, result.message
        return tenant

    with ThreadPoolExecutor(16) as pool:
        tenants = list(pool.map(make_tenant, range(options.tenants)))
    from django.db import connections

    connections.close_all()

    sandbox.set_latency(options.latency_ms)
    ceiling = sandbox_ceiling(
        sandbox, f"/integrations/{seed['integrationId']}", seconds=3.0, threads=96
    )
    # The service's bucket (a new key: this run's token) starts full too.
    sandbox.configure(rate_limit_per_second=options.rate, rate_limit_burst=options.burst)

    # Every job is queued first (as a burst of API requests would), then the workers start:
    # the run is timed from the first job a worker claims to the last one it finishes.
    enqueue_started = time.monotonic()
    jobs = [job_request(tenant=t, kind="provision", requested_by="api") for t in tenants]
    enqueue_seconds = time.monotonic() - enqueue_started
    ids = [job.pk for job in jobs]

    workers.extend(start_workers(options.workers, options.concurrency, env, log_dir))
    wait_for_workers(app, options.workers)
    processes = {"workers": [w.pid for w in workers], "sandbox": [sandbox.process.pid]}
    cpu_before = {k: sum(cpu_seconds(p) for p in pids) for k, pids in processes.items()}
    unfinished = (JobStatus.QUEUED, JobStatus.RUNNING)
    deadline = time.monotonic() + max(120.0, options.tenants * 2.0)
    while Job.objects.filter(pk__in=ids, status__in=unfinished).exists():
        if time.monotonic() > deadline:
            print("timed out waiting for the jobs", file=sys.stderr)
            break
        time.sleep(0.2)
    cpu = {k: sum(cpu_seconds(p) for p in pids) - cpu_before[k] for k, pids in processes.items()}

    calls = ApiCall.objects.filter(job__in=ids)
    total_calls = calls.count()
    window = Job.objects.filter(pk__in=ids).aggregate(
        first=Min("started_at"), last=Max("finished_at")
    )
    elapsed = (window["last"] - window["first"]).total_seconds()
    mean_call_ms = calls.aggregate(mean=Avg("duration_ms"))["mean"] or 0.0
    step_seconds = {
        name: duration.total_seconds()
        for name, duration in JobStep.objects.filter(job__in=ids)
        .values_list("name")
        .annotate(mean=Avg(F("finished_at") - F("started_at")))
        .order_by()
    }
    timings = Job.objects.filter(pk__in=ids).aggregate(run=Avg(F("finished_at") - F("started_at")))
    rate_limited = calls.filter(status=429).count()
    limiter_refusals = calls.filter(error_code="rate_limit_wait").count()
    per_step = dict(calls.values_list("step__name").annotate(n=Count("id")).order_by())
    statuses = collections.Counter(Job.objects.filter(pk__in=ids).values_list("status", flat=True))
    failed = options.tenants - statuses.get(JobStatus.SUCCEEDED, 0)
    tags = collections.Counter(i.get("tag") for i in sandbox.integrations() if i.get("tag"))
    duplicates = sum(count - 1 for count in tags.values())
    missing = options.tenants - len(tags)

    bound = min(options.rate, ceiling)
    calls_per_second = total_calls / elapsed
    ratio = calls_per_second / bound
    tenants_done = statuses.get(JobStatus.SUCCEEDED, 0)
    print()
    print(f"tenants              {options.tenants} ({tenants_done} provisioned)")
    print(
        f"workers              {options.workers} x threads pool, concurrency {options.concurrency}"
    )
    print(f"latency per call     {options.latency_ms:.0f} ms; rate limit {options.rate:.0f}/s")
    print(f"sandbox ceiling      {ceiling:.0f} calls/s at this latency (rate limit lifted)")
    print(f"bound                {bound:.0f} calls/s")
    print(f"queued               {options.tenants} jobs in {enqueue_seconds:.1f} s (job_request)")
    print(f"elapsed              {elapsed:.1f} s (first job claimed to last job finished)")
    print(f"tenants/s            {tenants_done / elapsed:.1f}")
    print(f"API calls            {total_calls} ({calls_per_second:.0f}/s)")
    print(f"calls per tenant     {total_calls / max(1, options.tenants):.2f}")
    print(
        f"CPU per call         workers {1000 * cpu['workers'] / max(1, total_calls):.1f} ms, "
        f"sandbox {1000 * cpu['sandbox'] / max(1, total_calls):.1f} ms "
        f"(workers at {cpu['workers'] / elapsed:.0%} of a core)"
    )
    print(f"mean call duration   {mean_call_ms:.0f} ms (HTTP, as the call log records it)")
    print(f"mean job             {timings['run'].total_seconds():.2f} s running")
    order = ["connections", "clone", "wire", "settings", "enable", "verify"]
    print(
        "  per step           "
        + ", ".join(f"{s} {per_step.get(s, 0) / options.tenants:.2f}" for s in order)
    )
    print("  step seconds       " + ", ".join(f"{s} {step_seconds.get(s, 0):.2f}" for s in order))
    print(f"ratio to bound       {ratio:.2f} (target >= {TARGET_RATIO})")
    print(f"429s seen            {rate_limited} (limiter refusals {limiter_refusals})")
    print(f"duplicates           {duplicates} (tenants without a clone: {missing})")
    print(f"failed jobs          {failed} {dict(statuses)}")
    met = ratio >= TARGET_RATIO and duplicates == 0 and failed == 0 and missing == 0
    print("targets              " + ("met" if met else "MISSED"))
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
