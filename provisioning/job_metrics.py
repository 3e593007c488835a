"""Jobs and steps in the process's metrics (core.metrics): called inside the runner's fenced
transactions, counted only once that transaction commits, so that a run that lost its lease
(rolled back) counts nothing."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from core import metrics
from provisioning.models import Job, JobStep


def job_ended(*, job: Job, outcome: str, at: datetime) -> None:
    kind = str(job.kind)
    seconds = metrics.seconds_since(job.created_at, at)

    def count() -> None:
        metrics.JOBS_FINISHED.labels(kind, outcome).inc()
        if seconds is not None:
            metrics.JOB_SECONDS.labels(kind, outcome).observe(seconds)

    transaction.on_commit(lambda: metrics.record_safely(count))


def job_postponed(*, job: Job, reason: str) -> None:
    counter = metrics.JOB_RUNS_POSTPONED.labels(str(job.kind), reason)
    transaction.on_commit(lambda: metrics.record_safely(counter.inc))


def step_ended(*, step: JobStep, outcome: str, at: datetime) -> None:
    seconds = metrics.seconds_since(step.started_at, at)
    if seconds is None:
        return
    histogram = metrics.JOB_STEP_SECONDS.labels(step.name, str(outcome))
    transaction.on_commit(lambda: metrics.record_safely(histogram.observe, seconds))
