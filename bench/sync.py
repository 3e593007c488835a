"""Run sync for many tenants: API calls per tenant per cycle, and seconds per cycle against
the rate-limit bound.

Sets up `--tenants` tenants (default 2,000) in the sandbox, each with its own integration, a
flow and `--runs` finished runs, then syncs them the way production does: a real Celery worker
(threads pool) takes the batches that the tick hands out every `--tick` seconds within the
runs' budget (RUNS_RATE_SHARE x INTEGRATOR_RATE_LIMIT_PER_SECOND x 80% for sync; the sandbox
and our limiter both at `--rate`, integrator.io's 300/s). Cycles measured:

1. first sync (backfill: flows listed, a week of jobs read);
2. quiet: nothing new anywhere; target: exactly 1 call per tenant;
3. busy: `--busy` of the tenants have one new run; target: still 1 call per tenant;
4. unthrottled, in-process: the same quiet cycle with the budget lifted, against the ceiling
   measured in the same run (plain `requests` threads doing the same GET /jobs calls with the
   sandbox's limit lifted): how close the sync itself comes to what the remote can answer.

For 1-3 it prints calls per tenant, seconds per cycle, the rate spent against the sync budget
and against the runs' hard cap (the Redis bucket every call also pays from), and the cycle time
against its bound (calls / budget rate). Targets: quiet and busy cycles cost <= 1.0 call per
tenant; no cycle spends more than the runs' cap; unthrottled ratio reported. Exits 1 if a
target is missed.

    .venv/bin/python bench/sync.py [--tenants 2000] [--runs 3] [--rate 300] [--tick 5]
        [--busy 0.2] [--concurrency 16]

Uses PostgreSQL database `provisioning_runs_bench` (created and dropped) and Redis db 15 under
a key prefix of the run (removed at the end).
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from bench.harness import (  # noqa: E402
    REDIS_URL,
    UNLIMITED,
    Sandbox,
    database_url,
    production_env,
    recreate_database,
    tear_down,
)

DB_NAME = "provisioning_runs_bench"
# A cycle may spend a little more than the paced rate (the first tick hands out a whole
# tick's budget at once); the hard cap is the runs' bucket: its rate plus its burst.
CAP_SLACK = 1.05


def start_worker(env: dict, concurrency: int, log_path: Path) -> subprocess.Popen:
    log = open(log_path, "wb")  # noqa: SIM115 (closed with the process)
    return subprocess.Popen(
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
            "default",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel",
            "WARNING",
            "--hostname",
            f"bench-sync-{env['BENCH_RUN_ID']}@%h",
        ],
        cwd=REPO_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tenants", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rate", type=float, default=300.0)
    parser.add_argument("--tick", type=int, default=5)
    parser.add_argument("--busy", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, default=16)
    options = parser.parse_args()

    run_id = uuid.uuid4().hex[:10]
    token = f"bench-{secrets.token_hex(8)}"
    log_dir = REPO_ROOT / "var" / f"bench-sync-{run_id}"
    log_dir.mkdir(parents=True, exist_ok=True)
    recreate_database(DB_NAME)
    sandbox = Sandbox(token, env={"SANDBOX_JOB_QUEUE_SECONDS": "0", "SANDBOX_JOB_RUN_SECONDS": "0"})
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.sync_settings",
        "PYTHONPATH": str(REPO_ROOT),
        "BENCH_RUN_ID": run_id,
        **production_env(),
        "DATABASE_URL": database_url(DB_NAME),
        "REDIS_URL": REDIS_URL,
        "CELERY_BROKER_URL": REDIS_URL,
        "INTEGRATOR_API_URL": sandbox.api_url,
        "INTEGRATOR_API_TOKEN": token,
        "INTEGRATOR_RATE_LIMIT_PER_SECOND": str(options.rate),
        "INTEGRATOR_RATE_LIMIT_BURST": "1000",
        "RUNS_SYNC_TICK_SECONDS": str(options.tick),
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    worker, code = None, 1
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
        worker = start_worker(env, options.concurrency, log_dir / "worker.log")
        code = run(options, sandbox)
        return code
    finally:
        tear_down(
            workers=[worker] if worker is not None else [],
            sandbox=sandbox,
            db_name=DB_NAME,
            run_id=run_id,
            log_dir=log_dir,
            ok=code == 0,
        )


def setup_tenants(options, sandbox: Sandbox) -> tuple[list[int], dict[int, str]]:
    """Integrations, flows and finished runs in the sandbox; active tenants here."""
    from tenants.models import IntegrationTemplate, TemplateVersion, Tenant, TenantStatus

    local = threading.local()

    def one(number: int) -> tuple[str, str]:
        session = getattr(local, "session", None) or sandbox.session()
        local.session = session
        api = sandbox.api_url
        integration = session.post(f"{api}/integrations", json={"name": f"Bench {number}"})
        integration_id = integration.json()["_id"]
        flow = session.post(
            f"{api}/flows", json={"name": f"Orders {number}", "_integrationId": integration_id}
        )
        flow_id = flow.json()["_id"]
        for _ in range(options.runs):
            session.post(f"{api}/flows/{flow_id}/run", json={}).raise_for_status()
        return integration_id, flow_id

    with ThreadPoolExecutor(16) as pool:
        made = list(pool.map(one, range(options.tenants)))
    template = IntegrationTemplate.objects.create(
        key="bench", name="Bench", source_integration_id="bench"
    )
    version = TemplateVersion.objects.create(
        template=template, version=template.version, source_integration_id="bench", digest="-"
    )
    tenants = Tenant.objects.bulk_create(
        Tenant(
            external_id=f"bench-{number:05d}",
            name=f"Bench {number}",
            template=template,
            template_version=version,
            status=TenantStatus.ACTIVE,
            integration_id=integration_id,
        )
        for number, (integration_id, _) in enumerate(made)
    )
    flows = {tenant.pk: flow_id for tenant, (_, flow_id) in zip(tenants, made, strict=True)}
    return [tenant.pk for tenant in tenants], flows


def ceiling(sandbox: Sandbox, integration_ids: list[str], *, threads: int, seconds: float):
    """Calls/s that plain `requests` threads get for the sync's own query (GET /jobs of one
    integration), with the sandbox's limit lifted."""
    deadline = time.monotonic() + seconds
    counts = [0] * threads
    since = "2000-01-01T00:00:00.000Z"

    def hammer(index: int) -> None:
        session = sandbox.session()
        rng = random.Random(index)
        while time.monotonic() < deadline:
            params = {
                "_integrationId": rng.choice(integration_ids),
                "type": "flow",
                "createdAt_gte": since,
            }
            if session.get(f"{sandbox.api_url}/jobs", params=params).status_code == 200:
                counts[index] += 1

    started = time.monotonic()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(hammer, range(threads)))
    return sum(counts) / (time.monotonic() - started)


def cycle(label: str, tenant_ids: list[int], tick: int) -> dict:
    """One sync cycle as beat and the worker run it: due now, ticks every `tick` seconds."""
    from django.db.models import Max, Sum
    from django.utils import timezone

    from runs.models import SyncState
    from runs.scheduling import tenants_due_for_sync
    from runs.tasks import runs_sync_batch

    SyncState.objects.update(next_sync_at=timezone.now())
    started_at = timezone.now()
    started = time.monotonic()
    ticks = 0
    done = 0
    while done < len(tenant_ids):
        for batch in tenants_due_for_sync():
            runs_sync_batch.delay(batch)
        ticks += 1
        next_tick = started + ticks * tick
        while time.monotonic() < next_tick and done < len(tenant_ids):
            time.sleep(0.2)
            done = SyncState.objects.filter(last_attempt_at__gte=started_at).count()
    states = SyncState.objects.filter(tenant_id__in=tenant_ids)
    totals = states.aggregate(calls=Sum("last_calls"), last=Max("last_attempt_at"))
    failed = states.exclude(last_error="").count()
    seconds = (totals["last"] - started_at).total_seconds()
    return {
        "label": label,
        "calls": totals["calls"],
        "seconds": seconds,
        "max_calls": states.aggregate(m=Max("last_calls"))["m"],
        "failed": failed,
    }


def unthrottled(tenant_ids: list[int], threads: int) -> tuple[float, int]:
    """The quiet cycle in-process with the budget lifted: (calls/s, calls)."""
    from django.conf import settings
    from django.db import connection

    from runs.batches import sync_batch_run

    settings.RUNS_RATE_SHARE = 1.0
    settings.INTEGRATOR_RATE_LIMIT_PER_SECOND = UNLIMITED
    settings.INTEGRATOR_RATE_LIMIT_BURST = UNLIMITED
    batches = [tenant_ids[i : i + 50] for i in range(0, len(tenant_ids), 50)]

    def work(batch):
        try:
            return sync_batch_run(tenant_ids=batch).calls
        finally:
            connection.close()

    started = time.monotonic()
    with ThreadPoolExecutor(threads) as pool:
        calls = sum(pool.map(work, batches))
    return calls / (time.monotonic() - started), calls


def run(options, sandbox: Sandbox) -> int:
    from django.conf import settings

    from runs.call_budget import runs_calls_per_second, sync_calls_per_second

    print(f"setting up {options.tenants} tenants x {options.runs} runs...", flush=True)
    tenant_ids, flows = setup_tenants(options, sandbox)
    from tenants.models import Tenant

    integration_ids = list(Tenant.objects.values_list("integration_id", flat=True))
    roof = ceiling(sandbox, integration_ids, threads=options.concurrency, seconds=3.0)
    sandbox.configure(rate_limit_per_second=options.rate, rate_limit_burst=1000)

    budget = sync_calls_per_second()
    cap = runs_calls_per_second()
    burst = settings.INTEGRATOR_RATE_LIMIT_BURST * settings.RUNS_RATE_SHARE
    print(
        f"budget: sync {budget:.0f} calls/s (runs' cap {cap:.0f}/s, burst {burst:.0f}) of "
        f"{options.rate:.0f}/s; one tick every {options.tick}s hands out "
        f"{budget * options.tick:.0f} calls"
    )
    results = [cycle("first sync", tenant_ids, options.tick)]
    results.append(cycle("quiet", tenant_ids, options.tick))
    busy = random.Random(7).sample(tenant_ids, int(len(tenant_ids) * options.busy))
    session = sandbox.session()
    sandbox.configure(rate_limit_per_second=UNLIMITED, rate_limit_burst=UNLIMITED)
    for tenant_id in busy:
        session.post(f"{sandbox.api_url}/flows/{flows[tenant_id]}/run", json={})
    sandbox.configure(rate_limit_per_second=options.rate, rate_limit_burst=1000)
    results.append(cycle(f"busy ({len(busy)} new runs)", tenant_ids, options.tick))

    ok = True
    print(
        f"{'cycle':<26} {'calls/tenant':>12} {'max':>4} {'seconds':>8} {'calls/s':>8} "
        f"{'÷budget':>8} {'÷cap':>6} {'bound s':>8} {'s÷bound':>8} {'failed':>6}"
    )
    for result in results:
        per_tenant = result["calls"] / len(tenant_ids)
        rate = result["calls"] / result["seconds"]
        bound = result["calls"] / budget
        ceiling_calls = cap * result["seconds"] + burst
        within_cap = result["calls"] <= ceiling_calls * CAP_SLACK
        ok &= within_cap and result["failed"] == 0
        if result["label"] != "first sync":
            ok &= per_tenant <= 1.0
        print(
            f"{result['label']:<26} {per_tenant:12.2f} {result['max_calls']:4d} "
            f"{result['seconds']:8.1f} {rate:8.1f} {rate / budget:8.2f} {rate / cap:6.2f} "
            f"{bound:8.1f} {result['seconds'] / bound:8.2f} {result['failed']:6d}"
            + ("" if within_cap else "  OVER THE RUNS' CAP")
        )
    quiet_rate, quiet_calls = unthrottled(tenant_ids, options.concurrency)
    print(
        f"unthrottled quiet cycle, in-process x{options.concurrency} threads: "
        f"{quiet_calls / len(tenant_ids):.2f} calls/tenant at {quiet_rate:.0f} calls/s; "
        f"ceiling (plain requests, same query, same threads) {roof:.0f} calls/s; "
        f"ratio {quiet_rate / roof:.2f}"
    )
    print(
        f"at these settings a cycle over 10,000 quiet tenants takes "
        f"{10_000 / budget:.0f}s (interval {settings.RUNS_SYNC_INTERVAL_SECONDS}s)"
    )
    print("targets:", "met" if ok else "MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
