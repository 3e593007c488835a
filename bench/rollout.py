"""Rolling a template version out: N tenants moved from 1.0.0 to 1.1.0 of the demo template by
a staged rollout, real Celery workers against the sandbox; then the drift check's cost.

Setup (not measured): N tenants (default 1,000) with working connections, provisioned on 1.0.0
(published with its snapshot) by the same real workers, as bench/provision.py does, with no
latency. Then the sandbox's template integration evolves to 1.1.0 (`POST
/_sandbox/demo/template-version`; a new refunds flow with an export and an import, a changed
orders export) and 1.1.0 is published with its snapshot.

Measured: a rollout started through the rollouts service (`rollout_start`, strategy percent,
`--wave-percent` 25 = 4 waves, no pause, max failure rate 0.05), carried by the workers (they
consume the `default` queue too, where the driver's task runs). Every integrator.io call pays
`--latency-ms` (100 ms); the sandbox's bucket and the service's limiter allow `--rate` (300/s)
with a small `--burst`. The driver looks at a wave every ROLLOUTS_POLL_SECONDS (5 s, the
production default), so a rollout's end-to-end time is partly its poll interval and the
draining of each wave. Hence two figures:
- the upgrade jobs measured directly: calls/s over the waves' busy windows (first job of a
  wave claimed to its last job finished, summed over waves) and its ratio to the bound (the
  rate, or the sandbox's ceiling at this latency if lower, measured in the same run with its
  limit lifted). This is the target;
- the rollout end to end (created to completed), its calls/s, and the time spent between
  waves (informative).

Printed: API calls per tenant for 1.0.0 -> 1.1.0 by change kind and by method + path pattern
(from the jobs' ApiCall rows), with the reads whose answer the job already had (the GET of a
read-modify-write of a document the same round's observe had just read); the dry run's
estimate (rollouts.estimates, which does not count reads); duplicates (tenants whose
integration holds two flows with one `_sourceId`); failed jobs; tenants on 1.1.0; an empty
plan for a sample of `--sample` tenants (`tenant_plan_preview`). Then the drift check: one
`drift_check_due` tick over `--drift-tenants` (default 50, DRIFT_CHECK_BATCH's default), its
calls per tenant (from the sandbox's request log; expected 4 reads) and seconds per 100
tenants (the check is sequential, one tenant after another).

The ratio needs waves of a few hundred tenants: a wave of 20 lasts about as long as one job
(2 s), and its calls/s is mostly ramp-up and tail (0.60 with --tenants 80).

Targets: ratio >= 0.8, 0 duplicates, 0 failed jobs, every tenant on 1.1.0, every sampled plan
empty, the drift check at 4 calls per tenant and no drift found. Exits 1 if one is missed.

    .venv/bin/python bench/rollout.py [--tenants 1000] [--latency-ms 100] [--rate 300]
        [--burst 100] [--concurrency 32] [--workers 2] [--wave-percent 25] [--sample 20]
        [--drift-tenants 50]

Uses PostgreSQL database `provisioning_bench_rollout` (created and dropped) and Redis db 15
under a key prefix of the run (removed at the end). About 3-4 minutes with the defaults.
"""

from __future__ import annotations

import argparse
import collections
import re
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from bench.harness import (  # noqa: E402
    Sandbox,
    run_with_workers,
    sandbox_ceiling,
    start_workers,
    tenants_with_connections,
    wait_for_jobs,
    wait_for_workers,
    worker_arguments,
)

DB_NAME = "provisioning_bench_rollout"
TARGET_RATIO = 0.8
TEMPLATE_FILES = REPO_ROOT / "tenants" / "template_files"
OBSERVE_READS = 4

# A call's path with its ids replaced: "/v1/exports/5eed...e01" -> "/exports/{id}".
_ID = re.compile(r"/[0-9a-f]{24}(?=/|$)")


def pattern(method: str, path: str) -> str:
    path = _ID.sub("/{id}", path.split("?", 1)[0])
    return f"{method} {path.removeprefix('/v1')}"


def change_kind(call: str) -> str:
    """The change kind (or the observe) a call of a reconcile serves, by its pattern. A GET of
    the integration is observe's as often as observe ran; the others are UpdateIntegration's
    read-modify-write (see `calls_by_kind`)."""
    method, path = call.split(" ", 1)
    if path.startswith("/integrations/{id}/"):
        return "observe"
    if path == "/integrations/{id}":
        return "UpdateIntegration"
    if path.endswith("/replaceConnection"):
        return "ReplaceConnection"
    if path == "/flows/{id}/clone":
        return "AddFlow"
    if method == "DELETE":
        return "DeleteFlow"
    if path.startswith(("/exports/", "/imports/")):
        return "UpdateStep"
    if path.startswith("/flows/"):
        return "UpdateFlow"
    return "other"


def calls_by_kind(patterns: collections.Counter) -> collections.Counter:
    kinds: collections.Counter = collections.Counter()
    for call, n in patterns.items():
        kinds[change_kind(call)] += n
    observes = patterns.get("GET /integrations/{id}/flows", 0)
    kinds["observe"] += observes
    kinds["UpdateIntegration"] -= observes
    return +kinds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    worker_arguments(parser, tenants=1000)
    parser.add_argument("--wave-percent", type=int, default=25)
    parser.add_argument("--sample", type=int, default=20, help="tenants whose plan is read")
    parser.add_argument("--drift-tenants", type=int, default=50, help="one drift tick's batch")
    options = parser.parse_args()
    return run_with_workers(run, options, db_name=DB_NAME, name="rollout")


def publish(sandbox: Sandbox, file: str):
    """Publish a version from its file with a snapshot of the template integration now."""
    from integrator.client import IntegratorClient
    from tenants.services import template_document_read, template_load, template_snapshot_take

    document = template_document_read(path=TEMPLATE_FILES / file)
    with IntegratorClient(sandbox.api_url, sandbox.token, timeout=30) as client:
        snapshot = template_snapshot_take(
            client=client, source_integration_id=document["source_integration_id"]
        )
    template, _ = template_load(document=document, snapshot=snapshot)
    return template, template.versions.get(version=document["version"])


def run(options, sandbox: Sandbox, env: dict, log_dir: Path, workers: list) -> int:
    from django.db import connections
    from django.db.models import Count, Max, Min
    from django.test import override_settings

    from config.celery import app
    from core.integrator_client import AccountClients
    from provisioning.drift import drift_check_due
    from provisioning.models import ApiCall, Job, JobStatus, JobStep
    from provisioning.services import job_request
    from provisioning.services.plans import tenant_plan_preview
    from rollouts.estimates import rollout_cost_estimate
    from rollouts.models import IN_FLIGHT_STATUSES, Rollout, RolloutTenant
    from rollouts.plan import RolloutSpec
    from rollouts.services import rollout_start
    from sandbox.seed import DEMO_REFUNDS_FLOW_ID
    from tenants.models import Tenant

    setup_started = time.monotonic()
    sandbox.call("POST", "/seed")
    template, first = publish(sandbox, "shop-to-erp.yaml")
    print(f"setting up {options.tenants} tenants on {first.version}...", flush=True)
    tenants = tenants_with_connections(sandbox, template, options.tenants)

    workers.extend(
        start_workers(
            options.workers, options.concurrency, env, log_dir, queues="provisioning,default"
        )
    )
    wait_for_workers(app, options.workers)
    provisions = [job_request(tenant=t, kind="provision", requested_by="api").pk for t in tenants]
    wait_for_jobs(provisions, timeout=max(120.0, options.tenants * 1.0))
    provisioned = Job.objects.filter(pk__in=provisions, status=JobStatus.SUCCEEDED).count()
    if provisioned != options.tenants:
        print(f"setup: only {provisioned} of {options.tenants} provisioned", file=sys.stderr)
        return 1

    evolved = sandbox.call("POST", "/demo/template-version", json={"version": "1.1.0"})
    assert evolved["version"] == "1.1.0", evolved
    _, second = publish(sandbox, "shop-to-erp-1.1.0.yaml")
    estimate = rollout_cost_estimate(Tenant.objects.get(pk=tenants[0].pk), second)
    setup_seconds = time.monotonic() - setup_started
    print(f"setup done in {setup_seconds:.0f} s; rolling out {second.version}...", flush=True)

    sandbox.set_latency(options.latency_ms)
    ceiling = sandbox_ceiling(
        sandbox, f"/integrations/{evolved['integrationId']}", seconds=3.0, threads=96
    )
    sandbox.configure(rate_limit_per_second=options.rate, rate_limit_burst=options.burst)
    # The limiter's bucket was drained by the provisioning: let it fill up to its burst, as the
    # sandbox's has just been, so that both start alike.
    time.sleep(options.burst / options.rate)

    spec = RolloutSpec(
        strategy="percent",
        wave_percent=options.wave_percent,
        pause_seconds=0,
        max_failure_rate=0.05,
    )
    rollout = rollout_start(template=template, to_version=second, spec=spec, created_by="bench")
    deadline = time.monotonic() + max(300.0, options.tenants * 1.0)
    while Rollout.objects.filter(pk=rollout.pk, status__in=IN_FLIGHT_STATUSES).exists():
        if time.monotonic() > deadline:
            print("timed out waiting for the rollout", file=sys.stderr)
            break
        time.sleep(0.5)
    rollout.refresh_from_db()
    entries = RolloutTenant.objects.filter(rollout=rollout)
    ids = list(entries.exclude(job=None).values_list("job_id", flat=True))
    # Recorded, not only finished: a halted or timed-out rollout may leave jobs running.
    wait_for_jobs(ids, timeout=60.0)

    # --- the upgrade jobs --------------------------------------------------------------------
    jobs = Job.objects.filter(pk__in=ids)
    calls = ApiCall.objects.filter(job__in=ids)
    total_calls = calls.count()
    busy = 0.0
    waves = []
    for wave in range(1, rollout.wave_count + 1):
        wave_jobs = entries.filter(wave=wave).exclude(job=None).values("job_id")
        window = jobs.filter(pk__in=wave_jobs).aggregate(
            first=Min("started_at"), last=Max("finished_at"), n=Count("id")
        )
        if window["first"] is None or window["last"] is None:
            continue
        seconds = (window["last"] - window["first"]).total_seconds()
        busy += seconds
        waves.append((wave, window["n"], seconds))
    end_to_end = ((rollout.finished_at or rollout.updated_at) - rollout.created_at).total_seconds()
    statuses = collections.Counter(jobs.values_list("status", flat=True))
    moved = len(ids)
    failed = moved - statuses.get(JobStatus.SUCCEEDED, 0)
    failed += options.tenants - moved  # a tenant never given a job did not move either
    patterns = collections.Counter()
    for method, path, n in calls.values_list("method", "path").annotate(n=Count("id")).order_by():
        patterns[pattern(method, path)] += n
    rate_limited = calls.filter(status=429).count()

    kinds: collections.Counter = collections.Counter()
    rounds = collections.Counter()
    for output in JobStep.objects.filter(job__in=ids, name="reconcile").values_list(
        "output", flat=True
    ):
        output = output or {}
        rounds[output.get("rounds")] += 1
        kinds.update(change["change"] for change in output.get("changes", []))

    # --- the end state -----------------------------------------------------------------------
    on_new = Tenant.objects.filter(pk__in=[t.pk for t in tenants], template_version=second).count()
    copies = collections.Counter(
        (flow["_integrationId"], flow.get("_sourceId"))
        for flow in sandbox.call("GET", "/objects", params={"collection": "flows"})["objects"][
            "flows"
        ]
        if flow.get("_sourceId")
    )
    duplicated = {integration for (integration, _), n in copies.items() if n > 1}
    with_new_flow = {i for (i, source), n in copies.items() if source == DEMO_REFUNDS_FLOW_ID}
    integrations = set(
        Tenant.objects.filter(pk__in=[t.pk for t in tenants]).values_list(
            "integration_id", flat=True
        )
    )
    without_new_flow = len(integrations - with_new_flow)
    step = max(1, options.tenants // max(1, options.sample))
    sample = list(Tenant.objects.filter(pk__in=[t.pk for t in tenants]).order_by("external_id"))
    sample = sample[::step][: options.sample]

    def preview(tenant):
        try:
            return len(tenant_plan_preview(tenant=tenant).changes)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(8) as pool:
        planned = list(pool.map(preview, sample))
    not_empty = sum(1 for n in planned if n)

    # --- the drift check ---------------------------------------------------------------------
    sandbox.call("DELETE", "/requests")
    drift_started = time.monotonic()
    with (
        override_settings(DRIFT_CHECK_BATCH=options.drift_tenants),
        AccountClients() as clients,
    ):
        report = drift_check_due(clients=clients.of)
    drift_seconds = time.monotonic() - drift_started
    journal = sandbox.call("GET", "/requests")["requests"]
    drift_calls = [r for r in journal if r["path"].startswith("/v1/")]
    drift_patterns = collections.Counter(pattern(r["method"], r["path"]) for r in drift_calls)
    drift_per_tenant = len(drift_calls) / max(1, report.checked)

    # --- report ------------------------------------------------------------------------------
    bound = min(options.rate, ceiling)
    n = max(1, moved)
    busy_rate = total_calls / busy if busy else 0.0
    ratio = busy_rate / bound
    reads = sum(v for k, v in patterns.items() if k.startswith("GET "))
    observes = patterns.get("GET /integrations/{id}/flows", 0)
    # observe reads the integration once a round; the other GETs of it are the read of
    # UpdateIntegration's read-modify-write, like every GET of one export, import or flow.
    rmw_reads = (
        patterns.get("GET /integrations/{id}", 0)
        - observes
        + sum(patterns.get(f"GET /{c}/{{id}}", 0) for c in ("exports", "imports", "flows"))
    )
    print()
    print(f"tenants              {options.tenants} ({moved} in the rollout, {on_new} on 1.1.0)")
    print(
        f"workers              {options.workers} x threads pool, concurrency {options.concurrency}"
    )
    print(f"latency per call     {options.latency_ms:.0f} ms; rate limit {options.rate:.0f}/s")
    print(f"sandbox ceiling      {ceiling:.0f} calls/s at this latency (rate limit lifted)")
    print(f"bound                {bound:.0f} calls/s")
    print(
        f"rollout              {rollout.status}, {rollout.wave_count} waves of "
        f"{options.wave_percent}%, {end_to_end:.1f} s end to end "
        f"({total_calls / end_to_end:.0f} calls/s; {end_to_end - busy:.1f} s between waves)"
    )
    print(
        "  waves              "
        + ", ".join(f"{w}: {n_jobs} jobs in {s:.1f} s" for w, n_jobs, s in waves)
    )
    print(f"upgrade jobs         {busy:.1f} s busy, {moved / busy if busy else 0:.1f} tenants/s")
    print(f"API calls            {total_calls} ({busy_rate:.0f}/s while waves ran)")
    print(f"calls per tenant     {total_calls / n:.2f}, of which {reads / n:.2f} reads")
    print(
        f"  by pattern         {', '.join(f'{k} {v / n:.2f}' for k, v in sorted(patterns.items()))}"
    )
    print(
        "  by change kind     "
        + ", ".join(f"{k} {v / n:.2f}" for k, v in sorted(calls_by_kind(patterns).items()))
        + f" (observe: {OBSERVE_READS} reads x {observes / n:.2f} rounds)"
    )
    print(
        "  changes            "
        + ", ".join(f"{k} {v / n:.2f}" for k, v in sorted(kinds.items()))
        + " per tenant"
    )
    print(f"  rounds             {dict(sorted(rounds.items(), key=str))} (jobs by rounds)")
    if estimate is not None:
        print(
            f"  dry-run estimate   {estimate['api_calls']} calls, {estimate['changes']} changes "
            f"{estimate['by_kind']} (reads not counted)"
        )
    print(
        f"  already known      {rmw_reads / n:.2f} reads per tenant: the GET of a "
        "read-modify-write of a document the same round's observe had just read; and the "
        f"last round's {OBSERVE_READS} reads, which find what the job's own writes made"
    )
    print(f"ratio to bound       {ratio:.2f} (target >= {TARGET_RATIO})")
    print(f"429s seen            {rate_limited}")
    print(
        f"duplicates           {len(duplicated)} tenants with two flows of one _sourceId "
        f"(without the new flow: {without_new_flow})"
    )
    print(f"failed jobs          {failed} {dict(statuses)}")
    print(f"empty plans          {len(planned) - not_empty} of {len(planned)} sampled")
    print(
        f"drift check          {report.checked} tenants in {drift_seconds:.1f} s "
        f"({100 * drift_seconds / max(1, report.checked):.1f} s per 100 tenants), "
        f"{drift_per_tenant:.2f} calls per tenant "
        f"({', '.join(f'{k} {v}' for k, v in sorted(drift_patterns.items()))}); "
        f"drifted {report.drifted}, errors {report.errors}"
    )
    met = (
        ratio >= TARGET_RATIO
        and not duplicated
        and without_new_flow == 0
        and failed == 0
        and on_new == options.tenants
        and not_empty == 0
        and report.checked == min(options.drift_tenants, options.tenants)
        and drift_per_tenant == OBSERVE_READS
        and report.drifted == 0
        and report.errors == 0
    )
    print("targets              " + ("met" if met else "MISSED"))
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
