"""Counting integrator.io calls per tenant and purpose (TenantCallCount), cheaply.

A `CallTally` is an integrator client's `on_call` hook: it adds each HTTP attempt to an
in-memory count under the tenant and purpose it is currently attributed to, and `flush()`
writes all of them in one upsert (`calls = calls + n`). So a job, a run-sync batch or a form
submission costs one statement, whatever number of calls it made. Refusals by our own rate
limiter are not calls to integrator.io and are not counted.

The day is the UTC day of the flush: a batch that straddles midnight counts on the later day.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, date, timedelta

from django.db import connection
from django.utils import timezone

from core.accounts import account_rate_limit
from core.models import IntegratorAccount
from integrator.transport import CallRecord
from tenants.models import TenantCallCount

# Our own limiter's refusal: nothing was sent.
LIMITER_REFUSAL = "rate_limit_wait"
RETENTION_DAYS = 90


def utc_today() -> date:
    return timezone.now().astimezone(UTC).date()


def is_remote_call(record: CallRecord) -> bool:
    return record.error_code != LIMITER_REFUSAL


class CallTally:
    """An `on_call` hook counting calls per (tenant id, purpose); see the module docstring."""

    def __init__(self, *, tenant_id: int | None = None, purpose: str | None = None) -> None:
        self.counts: Counter[tuple[int, str]] = Counter()
        self._current = (tenant_id, purpose)
        self._lock = threading.Lock()

    def attribute(self, *, tenant_id: int, purpose: str) -> None:
        """Count the calls from now on for this tenant and purpose."""
        self._current = (tenant_id, purpose)

    def __call__(self, record: CallRecord) -> None:
        tenant_id, purpose = self._current
        if tenant_id is None or purpose is None or not is_remote_call(record):
            return
        with self._lock:
            self.counts[(tenant_id, purpose)] += 1

    def flush(self) -> None:
        with self._lock:
            counts, self.counts = self.counts, Counter()
        call_counts_add(counts)


def call_counts_add(counts: dict[tuple[int, str], int], *, day: date | None = None) -> None:
    """Add `counts` ({(tenant id, purpose): calls}) to the day's rows, in one statement (in
    the caller's transaction, if any)."""
    rows = [(key, n) for key, n in counts.items() if n > 0]
    if not rows:
        return
    day = day or utc_today()
    table = connection.ops.quote_name(TenantCallCount._meta.db_table)
    values = ", ".join(["(%s, %s, %s, %s)"] * len(rows))
    params: list = []
    for (tenant_id, purpose), n in rows:
        params += [tenant_id, purpose, day, n]
    with connection.cursor() as cursor:
        # Names come from the model, values are parameters.
        cursor.execute(
            f"INSERT INTO {table} (tenant_id, purpose, day, calls) VALUES {values} "  # noqa: S608
            "ON CONFLICT (tenant_id, purpose, day) "
            f"DO UPDATE SET calls = {table}.calls + EXCLUDED.calls",
            params,
        )


def call_counts_purge(*, keep_days: int = RETENTION_DAYS) -> int:
    """Delete the counts older than `keep_days` days; returns how many rows went."""
    cutoff = utc_today() - timedelta(days=keep_days)
    deleted, _ = TenantCallCount.objects.filter(day__lt=cutoff).delete()
    return deleted


def account_daily_budget(account: IntegratorAccount) -> float:
    """The calls the integrator.io account may make in a day at its rate limit (its own, else
    the settings')."""
    _, per_second = account_rate_limit(account)
    return per_second * 86400
