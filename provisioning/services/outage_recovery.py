"""Jobs waiting out an integrator.io outage go back to work as soon as it is over.

A job postponed by an outage waits with a backoff that grows with its outage retries, up to
PROVISIONING_RETRY_MAX_SECONDS (5 min). Left to that timer, a customer watching the status
page would wait minutes after integrator.io answered again. So when an account's circuit
breaker closes (the `recovered` transition, once per episode, in the process whose write closed
it: core.integrator_outage), the account's jobs waiting for it are made due now and sent.

Which jobs: queued, waiting for integrator.io (`waiting_since`), not yet due, whose last
postponement was the platform being unwell (the breaker open, a 5xx, the network). Not a 429:
the platform was answering, and its Retry-After holds the whole account by itself. A job
whose POST answer was lost keeps its settle time (PROVISIONING_OUTCOME_SETTLE_SECONDS from
now, which is past the lost POST's): before that, the object it may have made could land
after the job looked for it, and be made twice.

Nothing of the job's window changes (`waiting_since`, `outage_retries`): should the outage
come back, the job goes on where its window and backoff were.

While the account's breaker is open again (a late close: the webhook sweep ending an episode
whose state Redis lost, after a new outage began), nothing is resumed: the jobs would only be
refused, and the new outage's close sends them.

Sending twice is harmless and avoided: the rows are taken under a lock that skips rows
another process holds, and made due in the same transaction, so a second process that saw the
close (or a repeated call) finds them due already and sends nothing; a job that is running or
already due is not touched (unless the episode ended unseen, Redis having lost the messages
too: see `fell_due`); and a claim takes a job once whatever messages arrive.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from core.integrator_client import rate_limit_redis
from core.integrator_outage import integrator_status_of
from core.outbox import send_on_commit
from integrator.errors import (
    CircuitOpenError,
    ConnectionFailedError,
    OutcomeUnknownError,
    ServerError,
    UnavailableError,
)
from provisioning.models import Job, JobStatus
from provisioning.policy import POLICY
from provisioning.runner import integrator_error_code
from provisioning.tasks import job_run

logger = logging.getLogger(__name__)

UNWELL_CODES = tuple(
    integrator_error_code(kind)
    for kind in (CircuitOpenError, UnavailableError, ServerError, ConnectionFailedError)
)
LOST_ANSWER_CODE = integrator_error_code(OutcomeUnknownError)


def jobs_resume_after_outage(*, account_key: str, fell_due: bool = False) -> list[uuid.UUID]:
    """Make the jobs of account `account_key` that wait out its outage due now (those after a
    lost answer: once it has settled) and send them when this transaction commits. Returns
    their ids. Nothing while the account's breaker holds an outage again: the close came late
    (the webhook sweep ending an episode whose state Redis lost, after a new one began), and
    the jobs would only be refused; that outage's close sends them.

    `fell_due`: the episode ended unseen because Redis lost the breaker's state, and with it
    the messages it held, those of the waiting jobs (sent with their backoff's countdown)
    included. The waiting jobs already due then have no message either: they are sent too
    (due now, which stamps the re-send as the stalled-job sweep does), rather than left to
    that sweep's grace period. A message that did survive is harmless: a claim takes the job
    once."""
    if integrator_status_of(rate_limit_redis(), account_key=account_key).degraded:
        logger.info(
            "integrator.io account %s: an outage ended but another holds it; its waiting jobs "
            "go when that one ends",
            account_key,
        )
        return []
    now = timezone.now()
    settled_at = now + timedelta(seconds=POLICY.outcome_settle_seconds)
    waiting = Job.objects.filter(
        status=JobStatus.QUEUED,
        waiting_since__isnull=False,
        tenant__account__key=account_key,
    )
    with transaction.atomic():
        unwell = _take(
            waiting.filter(error_code__in=UNWELL_CODES)
            if fell_due
            else waiting.filter(error_code__in=UNWELL_CODES, due_at__gt=now)
        )
        # Unseen, a job due before the settle time lost its message as well: it gets one for
        # the settle time; one due already is past it, and goes now as the others.
        lost = _take(
            waiting.filter(error_code=LOST_ANSWER_CODE, due_at__gt=now if fell_due else settled_at)
        )
        if fell_due:
            unwell += _take(waiting.filter(error_code=LOST_ANSWER_CODE, due_at__lte=now))
        Job.objects.filter(pk__in=unwell).update(due_at=now)
        Job.objects.filter(pk__in=lost).update(due_at=settled_at)
        for job_id in unwell:
            send_on_commit(job_run, str(job_id))
        for job_id in lost:
            send_on_commit(job_run, str(job_id), countdown=POLICY.outcome_settle_seconds)
    if unwell or lost:
        logger.info(
            "integrator.io account %s is back: %d job(s) waiting for it resumed now, %d once "
            "a lost answer has settled",
            account_key,
            len(unwell),
            len(lost),
        )
    return [*unwell, *lost]


def _take(jobs) -> list[uuid.UUID]:
    # Rows another process is changing (a claim, a cancel, a second resume) are skipped: it
    # decides their fate, and this one must not send them twice.
    return list(jobs.select_for_update(skip_locked=True, of=("self",)).values_list("pk", flat=True))
