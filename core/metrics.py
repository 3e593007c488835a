"""The service's Prometheus metrics that processes record as work happens (docs/operations.md).

Every process (gunicorn's workers, Celery workers, beat, manage.py commands) records into its
own files under PROMETHEUS_MULTIPROC_DIR when that is set (prometheus_client's multiprocess
mode): /metrics and a worker's metrics port add up every process's files at scrape time.
Without it (tests, a one-process `runserver`) the values live in this process's memory.

Figures read from the database at scrape time (tenants by status, sync lag, drift, rollouts)
are not here: `config.metrics` computes them when /metrics is scraped.

Labels are bounded: no tenant, job or delivery id, and no raw path. An integrator.io path
becomes its endpoint group (`integrator_endpoint_group`), a status its class.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable
from datetime import datetime

# The directory must exist before the first value is written (prometheus_client opens its
# files lazily, at the first labels() of each metric).
_MULTIPROC_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")
if _MULTIPROC_DIR:
    os.makedirs(_MULTIPROC_DIR, exist_ok=True)

from prometheus_client import Counter, Gauge, Histogram  # noqa: E402 (after the directory)

logger = logging.getLogger(__name__)

PREFIX = "eis"

# Seconds: a call to integrator.io (milliseconds to its 30 s read timeout), a wait for the rate
# limiter (up to INTEGRATOR_REQUEST_WAIT_SECONDS or 5 s), a job (seconds to a day of outage).
CALL_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
WAIT_BUCKETS = (0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5)
JOB_BUCKETS = (1, 5, 10, 30, 60, 120, 300, 900, 3600, 4 * 3600, 24 * 3600)
STEP_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)
LAG_BUCKETS = (0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600, 6 * 3600)

INTEGRATOR_CALLS = Counter(
    f"{PREFIX}_integrator_calls",
    "HTTP attempts at integrator.io, by account, endpoint group, method, status class and lane.",
    ["account", "group", "method", "status_class", "lane"],
)
INTEGRATOR_CALL_SECONDS = Histogram(
    f"{PREFIX}_integrator_call_duration_seconds",
    "Latency of HTTP attempts at integrator.io (sent ones only).",
    ["group", "lane"],
    buckets=CALL_BUCKETS,
)
INTEGRATOR_LIMITER_WAIT_SECONDS = Histogram(
    f"{PREFIX}_integrator_limiter_wait_seconds",
    "Time each attempt waited for a rate-limiter token, by lane.",
    ["lane"],
    buckets=WAIT_BUCKETS,
)
INTEGRATOR_CIRCUIT_TRANSITIONS = Counter(
    f"{PREFIX}_integrator_circuit_transitions",
    "Changes of an integrator.io account's circuit breaker (shared by every process), counted "
    "by the process that made them.",
    ["account", "to"],
)
JOBS_FINISHED = Counter(
    f"{PREFIX}_jobs_finished",
    "Jobs that ended, by kind and outcome (succeeded, failed, canceled).",
    ["kind", "outcome"],
)
JOB_SECONDS = Histogram(
    f"{PREFIX}_job_duration_seconds",
    "From a job's request to its end, by kind and outcome.",
    ["kind", "outcome"],
    buckets=JOB_BUCKETS,
)
JOB_RUNS_POSTPONED = Counter(
    f"{PREFIX}_job_runs_postponed",
    "Runs of a job that ended with another try scheduled, by kind and reason (outage, transient).",
    ["kind", "reason"],
)
JOB_STEP_SECONDS = Histogram(
    f"{PREFIX}_job_step_duration_seconds",
    "Duration of one run of a job step, by step and outcome (succeeded, failed).",
    ["step", "outcome"],
    buckets=STEP_BUCKETS,
)
WEBHOOK_DELIVERY_ATTEMPTS = Counter(
    f"{PREFIX}_webhook_delivery_attempts",
    "Webhook delivery attempts, by outcome (delivered, retry, dead, failed, canceled).",
    ["outcome"],
)
WEBHOOK_DELIVERY_LAG_SECONDS = Histogram(
    f"{PREFIX}_webhook_delivery_lag_seconds",
    "From an event being recorded to its delivery's 2xx.",
    buckets=LAG_BUCKETS,
)
DRIFT_CHECKS = Counter(
    f"{PREFIX}_drift_checks",
    "Drift checks of live tenants, by result (clean, drifted, error).",
    ["result"],
)
# `max` over every process's file: the freshest beat of any worker. A dead worker's file keeps
# its last value, so the alert is "too old", not "gone".
WORKER_HEARTBEAT = Gauge(
    f"{PREFIX}_worker_heartbeat_timestamp_seconds",
    "When a Celery worker of this deployment last said it was alive (epoch seconds).",
    multiprocess_mode="max",
)

# What one integrator.io path becomes: its first segment after the API's base, when it is one
# of the resources the client calls (integrator.client), else "other".
ENDPOINT_GROUPS = frozenset(
    {"connections", "integrations", "flows", "exports", "imports", "jobs", "tokenInfo"}
)


def integrator_endpoint_group(path: str, *, base_path: str = "") -> str:
    """`/v1/integrations/abc/flows?x=1` -> `integrations` (with base_path `/v1`)."""
    path = path.split("?", 1)[0]
    if base_path and path.startswith(base_path):
        path = path[len(base_path) :]
    first = path.lstrip("/").split("/", 1)[0]
    return first if first in ENDPOINT_GROUPS else "other"


def status_class(status: int | None, error_code: str | None) -> str:
    """2xx..5xx for an answer; `not_sent` when our own guard held the call back (the limiter,
    the Retry-After pause, the circuit breaker); `no_response` when the network failed."""
    if status is not None:
        return f"{status // 100}xx"
    if error_code in ("rate_limit_wait", "circuit_open"):
        return "not_sent"
    return "no_response"


def seconds_since(moment: datetime | None, now: datetime) -> float | None:
    if moment is None:
        return None
    return max(0.0, (now - moment).total_seconds())


def record_safely(record, *args, **kwargs) -> None:
    """Run a metric update; observability must never change the outcome of the work."""
    try:
        record(*args, **kwargs)
    except Exception:
        logger.exception("recording a metric failed")


def worker_heartbeat() -> None:
    WORKER_HEARTBEAT.set(time.time())


# The outcomes the alert rules and the dashboard watch with increase() and rate(): Prometheus
# sees nothing in a series whose first sample is already 1 (or 10: the jobs an outage postponed
# at once), so each process shows them at 0 from its start, and the first delivery
# dead-lettered (or job failed, or runs postponed, or drift checks made) after a restart still
# fires its alert and shows on its panel.
WEBHOOK_OUTCOMES = ("delivered", "retry", "dead", "failed", "canceled")
JOB_OUTCOMES = ("succeeded", "failed", "canceled")
POSTPONE_REASONS = ("outage", "transient")
DRIFT_RESULTS = ("clean", "drifted", "error")


def series_start_at_zero(*, job_kinds: Iterable[str]) -> None:
    for outcome in WEBHOOK_OUTCOMES:
        WEBHOOK_DELIVERY_ATTEMPTS.labels(outcome)
    for kind in job_kinds:
        for outcome in JOB_OUTCOMES:
            JOBS_FINISHED.labels(kind, outcome)
        for reason in POSTPONE_REASONS:
            JOB_RUNS_POSTPONED.labels(kind, reason)
    for result in DRIFT_RESULTS:
        DRIFT_CHECKS.labels(result)


# The status classes IntegratorErrorsHigh divides (sent attempts, and the failed ones among
# them). A series of eis_integrator_calls_total is born at its first attempt, already at 1, and
# rate() never counts that attempt: each first 5xx of an account, endpoint group, method and
# lane went unseen, so that an account whose calls fail sparsely (a few an hour per kind of
# call) could fail every one of them without the alert's ratio moving. Every kind of call a
# process makes shows these classes at 0 from its first attempt on, so an answer that changes
# class moves a series that was already there. Bounded: a few series for each label set the
# process already shows, never more.
CALL_CLASSES_AT_ZERO = ("2xx", "4xx", "5xx", "no_response")
_calls_started: set[tuple[str, str, str, str]] = set()


def integrator_call_series_start_at_zero(account: str, group: str, method: str, lane: str):
    key = (account, group, method, lane)
    if key in _calls_started:
        return
    for status_class_ in CALL_CLASSES_AT_ZERO:
        INTEGRATOR_CALLS.labels(account, group, method, status_class_, lane)
    _calls_started.add(key)


def circuit_transitions_start_at_zero(account: str, moves: Iterable[str]) -> None:
    """An account's breaker changes, at 0 (core.integrator_outage, at the breaker's first use
    in the process): the account is known only once a process uses it."""
    for to in moves:
        INTEGRATOR_CIRCUIT_TRANSITIONS.labels(account, to)
