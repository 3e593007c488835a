"""Jobs and steps in the process's metrics (core.metrics) and, with tracing on, a job's end on
the span of the task that ran it (core.tracing): called inside the runner's fenced
transactions, counted only once that transaction commits, so that a run that lost its lease
(rolled back) counts nothing."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from core import metrics, tracing
from provisioning.models import Job, JobStep


def job_ended(*, job: Job, outcome: str, at: datetime, error_code: str = "") -> None:
    kind = str(job.kind)
    seconds = metrics.seconds_since(job.created_at, at)
    job_id = str(job.pk)

    def count() -> None:
        metrics.JOBS_FINISHED.labels(kind, outcome).inc()
        if seconds is not None:
            metrics.JOB_SECONDS.labels(kind, outcome).observe(seconds)

    def recorded() -> None:
        metrics.record_safely(count)
        tracing.job_ended_span(job_id=job_id, kind=kind, outcome=str(outcome), error=error_code)

    transaction.on_commit(recorded)


def job_postponed(*, job: Job, reason: str) -> None:
    counter = metrics.JOB_RUNS_POSTPONED.labels(str(job.kind), reason)
    transaction.on_commit(lambda: metrics.record_safely(counter.inc))


def step_ended(*, step: JobStep, outcome: str, at: datetime) -> None:
    seconds = metrics.seconds_since(step.started_at, at)
    if seconds is None:
        return
    histogram = metrics.JOB_STEP_SECONDS.labels(step.name, str(outcome))
    transaction.on_commit(lambda: metrics.record_safely(histogram.observe, seconds))
