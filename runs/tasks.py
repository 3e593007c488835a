"""Celery tasks of runs: beat ticks that hand out work, the account-wide run sync, and
batches of tenants (connection checks; run syncs of named tenants, on demand).

The run sync is one cycle per integrator.io account (`runs.account_sync`): the tick sends
`runs.sync_account` for each account whose cycle is due. A cycle is idempotent (it re-reads
and upserts from its persisted watermark) and holds its account under a lease.

Batches are idempotent (a sync re-reads and upserts), so acks_late redelivery is harmless.
A batch the rate limiter stopped retries the tenants it did not reach, a few times; after
that they are due again at once, so the next tick takes them first. However long integrator.io
limits or refuses us, a tenant's sync is delayed, never dropped: the schedule is its retry
window, with no end (a sync, unlike a job, recurs anyway). A sync that fails for a tenant is
recorded on its SyncState and happens again at its next interval.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from core.outbox import send_on_commit
from integrator.errors import IntegratorError
from retry_policy import retry_delay
from runs.account_sync import account_sync_now, accounts_due_for_sync
from runs.batches import check_batch_run, sync_batch_run
from runs.follow import run_follow
from runs.scheduling import tenants_due_again, tenants_due_for_check

logger = logging.getLogger(__name__)

MAX_BATCH_RETRIES = 3


def _retry_the_rest(task, result, *, attempt: int, what: str, due_field: str) -> None:
    """Send the tenants the batch did not reach again, just past the limiter's wait (a rate
    limit, not a failure), up to MAX_BATCH_RETRIES times; then they are due again for the
    next tick (never dropped: see the module docstring)."""
    if not result.retry_ids:
        return
    if attempt > MAX_BATCH_RETRIES:
        tenants_due_again(field=due_field, tenant_ids=result.retry_ids)
        logger.warning(
            "rate limited; %d tenants are due again for the next %s tick",
            len(result.retry_ids),
            what,
        )
        return
    countdown = retry_delay(
        attempt=1,
        base=1.0,
        cap=float(settings.CELERY_MAX_RETRY_COUNTDOWN),
        retry_after=result.retry_after,
        spread=0.2,
    )
    send_on_commit(task, result.retry_ids, attempt + 1, countdown=countdown)


@shared_task(name="runs.sync_tick", ignore_result=True)
def runs_sync_tick() -> int:
    """Beat, every RUNS_SYNC_TICK_SECONDS: send a cycle for each account whose sync is due."""
    keys = accounts_due_for_sync()
    for key in keys:
        send_on_commit(runs_sync_account_task, key)
    return len(keys)


@shared_task(name="runs.sync_account", acks_late=True, ignore_result=True)
def runs_sync_account_task(cursor_key: str) -> int:
    """One cycle of an account's run sync; the runs it created or changed."""
    result = account_sync_now(cursor_key=cursor_key)
    return result.created + result.updated


@shared_task(name="runs.sync_batch", acks_late=True, ignore_result=True)
def runs_sync_batch(tenant_ids: list[int], attempt: int = 1) -> int:
    """Sync the named tenants one by one (on demand, e.g. `manage.py sync_runs`; the
    scheduled sync is account-wide)."""
    result = sync_batch_run(tenant_ids=tenant_ids)
    _retry_the_rest(runs_sync_batch, result, attempt=attempt, what="sync", due_field="next_sync_at")
    return result.done


@shared_task(name="runs.check_tick", ignore_result=True)
def runs_check_tick() -> int:
    """Beat, every RUNS_SYNC_TICK_SECONDS: hand out the tenants due for a connection check."""
    batches = tenants_due_for_check()
    for batch in batches:
        runs_check_batch.delay(batch)
    return sum(len(batch) for batch in batches)


@shared_task(name="runs.check_batch", acks_late=True, ignore_result=True)
def runs_check_batch(tenant_ids: list[int], attempt: int = 1) -> int:
    result = check_batch_run(tenant_ids=tenant_ids)
    _retry_the_rest(
        runs_check_batch, result, attempt=attempt, what="check", due_field="next_check_at"
    )
    return result.done


# A run started on demand is read 2 s after it was started, then at doubling intervals up to
# a minute apart, for at most RUN_FOLLOW_MAX_ATTEMPTS reads (about 30 minutes); past that the
# scheduled sync takes over.
RUN_FOLLOW_FIRST_SECONDS = 2.0
RUN_FOLLOW_MAX_SECONDS = 60.0
RUN_FOLLOW_MAX_ATTEMPTS = 40


@shared_task(name="runs.run_follow", acks_late=True, ignore_result=True)
def run_follow_task(tenant_id: int, job_id: str, attempt: int) -> bool:
    try:
        finished = run_follow(tenant_id=tenant_id, job_id=job_id)
    except IntegratorError as error:
        logger.info("could not follow run %s (%s); trying again", job_id, error)
        finished = False
    if not finished and attempt < RUN_FOLLOW_MAX_ATTEMPTS:
        countdown = retry_delay(
            attempt=attempt + 1, base=RUN_FOLLOW_FIRST_SECONDS, cap=RUN_FOLLOW_MAX_SECONDS
        )
        send_on_commit(run_follow_task, tenant_id, job_id, attempt + 1, countdown=countdown)
    return finished
