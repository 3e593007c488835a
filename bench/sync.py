"""Run sync at fleet scale: integrator.io calls per cycle of the account-wide sync, at 10,000
and 50,000 tenants, against the least any sync could spend, measured in the same run.

For each size (`--tenants`, default 10,000 and 50,000) it resets the sandbox, makes that many
integrations there in one control call (each with one flow), and the same number of active
tenants here in bulk (rows in PostgreSQL, their flows known as provisioning leaves them).
Then it runs the cycles the way the `runs.sync_account` task does (`account_sync_now`: the
runs' client, the Redis limiter, the sandbox at integrator.io's 300 calls/s):

1. first: the account's first cycle (nothing has run yet);
2. quiet: nothing new anywhere; target: at most QUIET_TARGET calls in total;
3. busy: `--busy` (1 %) of the tenants ran once since; target: the pages those runs fill
   (a thousand jobs a page), no more;
4. quiet again: the busy runs are still inside the overlap window, read again, unchanged;
5. busy x5: the same tenants ran five times each: pages in proportion to the runs.

Ratios, each against a ceiling measured in the same run:
- calls: the least calls that could tell the cycle what it learnt (n jobs need n // 1000 + 1
  pages: a full page cannot tell that it is the last) over the calls it made; 1.00 is the
  bound (each page after the first reads the previous one's oldest millisecond again, so a
  cycle may take one page more than the bound);
- per-tenant design: the calls a per-tenant sync spends on the same cycle (one per live tenant,
  the former design) over the calls this one made;
- seconds: plain `requests` fetching the same pages from the same sandbox (the remote's share
  of the cycle) over the cycle's wall time: the rest is our own bookkeeping (mapping, upserts,
  health of the tenants that ran).

Exits 1 if a target is missed or a run is missing or doubled in the mirror.

    .venv/bin/python bench/sync.py [--tenants 10000 50000] [--busy 0.01]

Uses PostgreSQL database `provisioning_runs_bench` (created and dropped) and Redis db 15 under
a key prefix of the run (removed at the end).
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import time
import uuid
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from bench.harness import (  # noqa: E402
    REDIS_URL,
    Sandbox,
    database_url,
    production_env,
    recreate_database,
    tear_down,
)

DB_NAME = "provisioning_runs_bench"
QUIET_TARGET = 3
REPEATS = 5
JOBS_PER_PAGE = 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tenants", type=int, nargs="+", default=[10_000, 50_000])
    parser.add_argument("--busy", type=float, default=0.01)
    parser.add_argument("--rate", type=float, default=300.0)
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
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    code = 1
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
        code = run(options, sandbox)
        return code
    finally:
        tear_down(
            workers=[],
            sandbox=sandbox,
            db_name=DB_NAME,
            run_id=run_id,
            log_dir=log_dir,
            ok=code == 0,
        )


def setup_fleet(sandbox: Sandbox, count: int) -> list[tuple[int, str]]:
    """A clean account and database with `count` live tenants: [(tenant id, flow id)]."""
    from django.db import connection
    from django.utils import timezone

    from runs.models import TenantFlow
    from tenants.models import IntegrationTemplate, TemplateVersion, Tenant, TenantStatus

    sandbox.call("POST", "/reset")
    sandbox.configure(job_queue_seconds=0, job_run_seconds=0)
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE tenants_tenant, tenants_integrationtemplate, runs_runsynccursor CASCADE"
        )
    made = sandbox.call("POST", "/bulk/integrations", json={"count": count, "namePrefix": "Bench"})[
        "created"
    ]
    template = IntegrationTemplate.objects.create(
        key="bench", name="Bench", source_integration_id="bench"
    )
    version = TemplateVersion.objects.create(
        template=template, version=template.version, source_integration_id="bench", digest="-"
    )
    tenants = Tenant.objects.bulk_create(
        (
            Tenant(
                external_id=f"bench-{number:05d}",
                name=f"Bench {number}",
                template=template,
                template_version=version,
                status=TenantStatus.ACTIVE,
                integration_id=ids["_integrationId"],
            )
            for number, ids in enumerate(made)
        ),
        batch_size=5000,
    )
    now = timezone.now()
    TenantFlow.objects.bulk_create(
        (
            TenantFlow(tenant=tenant, flow_id=ids["_flowId"], name="Orders", refreshed_at=now)
            for tenant, ids in zip(tenants, made, strict=True)
        ),
        batch_size=5000,
    )
    return [(tenant.pk, ids["_flowId"]) for tenant, ids in zip(tenants, made, strict=True)]


def remote_ceiling(sandbox: Sandbox, pages: int, start: str) -> float:
    """Seconds plain `requests` takes to fetch the cycle's pages: the same account-wide
    query, page after page (createdAt_lte paging), from the same sandbox."""
    session = sandbox.session()
    params = {"type": "flow", "createdAt_gte": start}
    started = time.monotonic()
    for _ in range(max(1, pages)):
        page = session.get(f"{sandbox.api_url}/jobs", params=params, timeout=60).json()
        if len(page) < JOBS_PER_PAGE:
            break
        params["createdAt_lte"] = min(job["createdAt"] for job in page)
    return time.monotonic() - started


def cycle(label: str, tenants: int, sandbox: Sandbox) -> dict:
    from runs.account_sync import OVERLAP, account_sync_now
    from runs.models import RunSyncCursor

    cursor = RunSyncCursor.objects.filter(key="default").first()
    watermark = cursor.watermark if cursor else None
    started = time.monotonic()
    result = account_sync_now()
    seconds = time.monotonic() - started
    if not result.ok:
        raise SystemExit(f"{label}: the cycle failed: {result.error}")
    start = (
        (watermark - OVERLAP).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        if watermark
        else "2000-01-01T00:00:00.000Z"
    )
    # A full page cannot tell that it is the last: n jobs need n // 1000 + 1 pages, however
    # they are paged.
    bound = result.jobs // JOBS_PER_PAGE + 1
    return {
        "label": label,
        "calls": result.calls,
        "pages": result.pages,
        "jobs": result.jobs,
        "created": result.created,
        "tenants_changed": result.tenants_changed,
        "seconds": seconds,
        "bound": bound,
        "remote_seconds": remote_ceiling(sandbox, result.pages, start),
        "per_tenant_calls": tenants,
    }


def run_size(options, sandbox: Sandbox, count: int) -> bool:
    from runs.models import FlowRun

    started = time.monotonic()
    fleet = setup_fleet(sandbox, count)
    print(f"\n{count:,} tenants (set up in {time.monotonic() - started:.0f} s)", flush=True)
    results = [cycle("first", count, sandbox), cycle("quiet", count, sandbox)]
    ran = fleet[:: max(1, round(1 / options.busy))][: int(count * options.busy)]
    job_ids = sandbox.call("POST", "/bulk/runs", json={"flowIds": [flow for _, flow in ran]})[
        "jobIds"
    ]
    first_runs = len(job_ids)
    results.append(cycle(f"busy ({len(ran):,} ran)", count, sandbox))
    results.append(cycle("quiet again", count, sandbox))
    # The same tenants, five runs each: more pages, in proportion to the runs.
    job_ids += sandbox.call(
        "POST", "/bulk/runs", json={"flowIds": [flow for _, flow in ran] * REPEATS}
    )["jobIds"]
    results.append(cycle(f"busy ({len(ran):,} ran x{REPEATS})", count, sandbox))

    print(
        f"{'cycle':<20} {'calls':>5} {'pages':>5} {'jobs':>6} {'new':>5} {'bound':>5} "
        f"{'÷calls':>6} {'per-tenant':>10} {'÷this':>7} {'seconds':>7} {'remote s':>8} "
        f"{'÷wall':>6}"
    )
    ok = True
    for r in results:
        print(
            f"{r['label']:<20} {r['calls']:5d} {r['pages']:5d} {r['jobs']:6d} "
            f"{r['created']:5d} {r['bound']:5d} {r['bound'] / r['calls']:6.2f} "
            f"{r['per_tenant_calls']:10,d} {r['per_tenant_calls'] / r['calls']:7.0f} "
            f"{r['seconds']:7.2f} {r['remote_seconds']:8.3f} "
            f"{r['remote_seconds'] / r['seconds']:6.2f}"
        )
        # A page after the first reads the previous page's oldest millisecond again.
        ok &= r["calls"] <= max(QUIET_TARGET, r["jobs"] // (JOBS_PER_PAGE - 1) + 1)
    quiet = results[1]
    busy = results[2]
    mirrored = FlowRun.objects.count()
    ok &= quiet["calls"] <= QUIET_TARGET
    ok &= busy["created"] + results[4]["created"] == len(job_ids) == mirrored
    ok &= FlowRun.objects.filter(job_id__in=job_ids).count() == len(job_ids)
    print(
        f"quiet cycle: {quiet['calls']} call(s) in total (target <= {QUIET_TARGET}); "
        f"busy cycle: {busy['calls']} call(s) for {first_runs:,} runs "
        f"(bound {busy['bound']} page(s) of {JOBS_PER_PAGE}), {results[4]['calls']} for "
        f"{results[4]['jobs']:,} jobs (bound {results[4]['bound']}); mirrored {mirrored:,} runs "
        f"for {len(job_ids):,} made"
    )
    return ok


def run(options, sandbox: Sandbox) -> int:
    sandbox.configure(rate_limit_per_second=options.rate, rate_limit_burst=1000)
    ok = True
    for count in options.tenants:
        ok &= run_size(options, sandbox, count)
    print(
        "\nbound: the least calls that could learn what the cycle learnt (n jobs read need "
        f"n // {JOBS_PER_PAGE} + 1 pages); per-tenant: what one "
        "call per live tenant (the former design) would spend; remote s: plain requests "
        "fetching the same pages"
    )
    print("targets:", "met" if ok else "MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
