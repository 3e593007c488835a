"""Worker CPU per provision job: N provisions run one after another in this process, no Celery.

`bench/provision.py` measures throughput with real workers; on a busy 2-core machine that is
capped by the CPU each job costs, and its figures move by a third from run to run. This one
measures that cost alone, with little noise: the demo template, the sandbox with no latency and
no rate limit, each job claimed and run by `job_run_once` (what the Celery task calls) in this
process's thread. It prints this process's CPU per job (the side-by-side calls' threads
included), PostgreSQL's and the sandbox's, the SQL statements per job, and the job's CPU as a
multiple of the ceiling measured in the same run: one bare `requests` call to the same sandbox
(`trust_env=False`), so that "a job costs as much as N bare calls" compares across machines.

    .venv/bin/python bench/provision_cpu.py [--tenants 100]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from bench.harness import (  # noqa: E402
    Sandbox,
    cpu_seconds,
    demo_template_published,
    postgres_cpu_seconds,
    postgres_cpu_since,
    run_with_workers,
    tenants_with_connections,
)

DB_NAME = "provisioning_bench_cpu"
BARE_CALLS = 300
BARE_BATCHES = 7


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tenants", type=int, default=100)
    options = parser.parse_args()
    # What run_with_workers sets up: this process's own connections only, no limit to wait on.
    options.workers, options.concurrency = 1, 1
    options.rate, options.burst = 1_000_000.0, 1_000_000
    return run_with_workers(run, options, db_name=DB_NAME, name="provision-cpu")


def _bare_call_cpu(url: str, token: str) -> float:
    """CPU seconds of one plain `requests` GET to the sandbox: the ceiling's unit."""
    import requests

    session = requests.Session()
    session.trust_env = False
    headers = {"Authorization": f"Bearer {token}"}
    session.get(url, headers=headers, timeout=10).raise_for_status()
    batches = []
    for _ in range(BARE_BATCHES):
        started = time.process_time()
        for _ in range(BARE_CALLS):
            session.get(url, headers=headers, timeout=10).raise_for_status()
        batches.append((time.process_time() - started) / BARE_CALLS)
    return statistics.median(batches)


def run(options, sandbox: Sandbox, env: dict, log_dir: Path, workers: list) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from provisioning.models import ApiCall, Job, JobStatus
    from provisioning.runner import job_run_once
    from provisioning.services import job_request
    from provisioning.tasks import error_is_outage, error_is_transient

    seed, template = demo_template_published(sandbox)
    print(f"setting up {options.tenants} tenants with working connections...", flush=True)
    tenants = tenants_with_connections(sandbox, template, options.tenants)
    sandbox.set_latency(0)
    sandbox.configure(rate_limit_per_second=1_000_000, rate_limit_burst=1_000_000)
    bare = _bare_call_cpu(f"{sandbox.api_url}/integrations/{seed['integrationId']}", sandbox.token)

    jobs = [job_request(tenant=t, kind="provision", requested_by="api") for t in tenants]

    def one(job) -> None:
        job_run_once(
            job_id=str(job.pk),
            owner="bench:provision-cpu",
            transient=error_is_transient,
            outage=error_is_outage,
        )

    # Warm up: the first jobs load code, the template's snapshot and the client's connections.
    # The next few count the SQL statements (capturing them costs CPU of its own, so the jobs
    # measured after them run without it).
    warm, counted = 5, 5
    for job in jobs[:warm]:
        one(job)
    with CaptureQueriesContext(connection) as queries:
        for job in jobs[warm : warm + counted]:
            one(job)
    statements = len(queries) / counted
    measured = jobs[warm + counted :]
    postgres_before = postgres_cpu_seconds()
    sandbox_before = cpu_seconds(sandbox.process.pid)
    started_wall, per_job = time.monotonic(), []
    for job in measured:
        started = time.process_time()
        one(job)
        per_job.append(time.process_time() - started)
    wall = time.monotonic() - started_wall
    cpu = sum(per_job)
    sandbox_cpu = cpu_seconds(sandbox.process.pid) - sandbox_before
    postgres_cpu = postgres_cpu_since(postgres_before)

    n = len(measured)
    ids = [job.pk for job in measured]
    succeeded = Job.objects.filter(pk__in=ids, status=JobStatus.SUCCEEDED).count()
    calls = ApiCall.objects.filter(job__in=ids).count()
    print()
    print(
        f"jobs                 {n} measured (after {warm + counted} others), {succeeded} succeeded"
    )
    print(f"calls per job        {calls / n:.2f}")
    print(f"SQL per job          {statements:.1f} statements (BEGIN and COMMIT included)")
    print(f"wall per job         {1000 * wall / n:.1f} ms (no latency: CPU and round trips)")
    median = statistics.median(per_job)
    print(
        f"worker CPU per job   {1000 * median:.1f} ms median, {1000 * cpu / n:.1f} ms mean "
        "(this process, one job at a time)"
    )
    print(
        f"  others per job     PostgreSQL {1000 * postgres_cpu / n:.1f} ms, sandbox "
        f"{1000 * sandbox_cpu / n:.1f} ms (means)"
    )
    print(f"ceiling              a bare requests call {1000 * bare:.2f} ms of CPU (median)")
    print(
        f"ratio                a job costs {median / bare:.1f} bare calls of CPU "
        f"({calls / n:.0f} of them are its calls)"
    )
    return 0 if succeeded == n else 1


if __name__ == "__main__":
    sys.exit(main())
