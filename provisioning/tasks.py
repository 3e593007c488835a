"""Celery tasks of provisioning. They take ids, call one function, and own the retry policy.

A retry is a new message with a countdown (backoff with jitter, capped: see policy.py), sent
through `core.outbox` like every task's retry; a worker never sleeps waiting for one. The
attempt cap counts task runs in the job row, so that redeliveries and sweeps count too and a
poison job cannot loop forever; runs postponed because integrator.io was unavailable are
bounded by the retry window instead (runner.py).

Workers run these on the `provisioning` queue with a threads pool (I/O bound: see
bench/provision.py for the sizing). That pool does not enforce Celery's time limits: a hung
call is bounded by the client's timeout, and a stuck or dead worker by the job's lease, after
which the sweeper sends the job again.
"""

from __future__ import annotations

import dataclasses
import os
import threading

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from core.integrator_client import AccountClients
from core.outbox import send_on_commit
from integrator.errors import IntegratorError, OutcomeUnknownError
from provisioning.orphan_scan import orphans_scan_accounts
from provisioning.outage_probe import outage_probe_accounts
from provisioning.runner import job_run_once
from provisioning.sweeper import jobs_sweep
from tenants.call_costs import CallTally


def error_is_outage(error: BaseException) -> bool:
    """Whether integrator.io itself is the trouble (unavailable, limiting us, our circuit
    breaker open, the network down, an answer lost): a condition of the platform, waited out
    within the job's retry window without spending its attempts (see runner.py). Any
    `IntegratorError` that says `retryable`, whatever its class, and a lost POST answer."""
    return isinstance(error, IntegratorError) and (
        error.retryable or isinstance(error, OutcomeUnknownError)
    )


def error_is_transient(error: BaseException) -> bool:
    """Whether the same job may well succeed later: the client's errors say so themselves
    (`IntegratorError.retryable`: 429 or our own limiter, 5xx, a network failure). A POST whose
    answer was lost is not retryable as such, but the job reconciles before it acts again
    (it looks for what it meant to create), so a later attempt is safe. Everything else
    integrator.io answers (validation, not found, authentication, a masked secret) is
    permanent: the job fails with a readable message, and a person retries it."""
    if isinstance(error, IntegratorError):
        return error_is_outage(error)
    # Prefork pools only: the attempt ran past its soft time limit.
    return isinstance(error, SoftTimeLimitExceeded)


@shared_task(
    bind=True,
    name="provisioning.job_run",
    queue="provisioning",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
)
def job_run(self, job_id: str) -> None:
    owner = f"{self.request.hostname or 'worker'}:{os.getpid()}:{threading.get_ident()}"
    # Both budgets (the attempts cap, the retry window) are kept in the job's row.
    outcome = job_run_once(
        job_id=job_id, owner=owner, transient=error_is_transient, outage=error_is_outage
    )
    if outcome is not None:
        # The job row holds the due time too: if this message is lost, the sweeper re-sends.
        send_on_commit(job_run, job_id, countdown=outcome.countdown)


@shared_task(name="provisioning.jobs_sweep", ignore_result=True)
def jobs_sweep_task() -> dict:
    report = jobs_sweep()
    for job_id in report.resend:
        job_run.delay(str(job_id))
    return report.as_dict()


@shared_task(name="provisioning.outage_probe", ignore_result=True)
def outage_probe_task() -> list[str]:
    """Beat, every INTEGRATOR_BREAKER_PROBE_SECONDS: ask integrator.io whether it is back for
    each account whose breaker is open, whether or not jobs wait (outage_probe.py). Missing a
    tick costs one interval."""
    return outage_probe_accounts()


@shared_task(name="provisioning.orphans_scan", ignore_result=True)
def orphans_scan_task() -> dict:
    """Beat, every ORPHANS_SCAN_INTERVAL_SECONDS: every integrator.io account, each on its
    own (a report per account key). Failing now is harmless: the next scan sees the same
    objects."""
    return orphans_scan_accounts()


@shared_task(name="provisioning.drift_check", ignore_result=True)
def drift_check_task() -> dict:
    """Beat, every DRIFT_CHECK_TICK_SECONDS: the due tenants, up to DRIFT_CHECK_BATCH. Read
    only (a repair is a job of its own); running twice checks a tenant twice, no more."""
    # Imported here: the drift check asks for repair jobs, whose service sends this module's
    # job_run task (a cycle at import time).
    from provisioning.drift import drift_check_due

    tally = CallTally()
    try:
        with AccountClients(on_call=tally, lane="background") as clients:
            return dataclasses.asdict(drift_check_due(clients=clients.of, tally=tally))
    finally:
        tally.flush()
