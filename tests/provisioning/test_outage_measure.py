"""A measurement, not a check: N provision jobs started while integrator.io answers 503 to
every call, the outage lifted after OUTAGE seconds, and how many jobs failed for good.

Scaling: in production (backoff 2 s doubling to 300 s, 8 attempts, each attempt's calls
retried by the client for a few seconds) a job's whole attempt budget is a few minutes, and a
150 s outage failed 7 of 10 jobs. The test worker (tests/fixtures/worker.py QUICK_POLICIES:
backoff 0.2 s doubling to 1.5 s, 8 attempts) spends its budget in ~15-20 s, so the outage
here is 25 s by default (OUTAGE_SECONDS): longer than the whole budget, as the incident's was.

    OUTAGE_MEASURE=1 [OUTAGE_SECONDS=25] pytest tests/provisioning/test_outage_measure.py -s
"""

import os
import time

import pytest

from provisioning.models import JobKind, JobOrigin, JobStatus
from provisioning.services import job_request

N = 10
OUTAGE_SECONDS = float(os.environ.get("OUTAGE_SECONDS", "25"))

pytestmark = pytest.mark.skipif(
    not os.environ.get("OUTAGE_MEASURE"), reason="a measurement: set OUTAGE_MEASURE=1 to run it"
)


def test_measure_jobs_failed_by_an_outage(world):
    tenants = [world.tenant(f"Outage {n}") for n in range(N)]
    world.sandbox.control.inject_fault("error", status=503, path="/v1/*")
    started = time.monotonic()
    jobs = [
        job_request(tenant=t, kind=JobKind.PROVISION, requested_by=JobOrigin.API) for t in tenants
    ]
    time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - started)))
    world.sandbox.control.clear_faults()
    recovered = time.monotonic()

    jobs = world.wait(jobs, timeout=120)

    done_after = time.monotonic() - recovered
    failed = [job for job in jobs if job.status == JobStatus.FAILED]
    print(
        f"\nOUTAGE MEASURE: N={N}, outage {OUTAGE_SECONDS:.0f} s: {len(failed)} failed, "
        f"{N - len(failed)} succeeded; all finished {done_after:.1f} s after recovery; "
        f"attempts {sorted(job.attempts for job in jobs)}"
    )
    for job in failed[:3]:
        print(f"  failed: {job.error_message[:160]}")
