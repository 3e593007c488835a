"""A batch of tenants worked through with one client: the check tick's share of work, or a
run sync of named tenants on demand (the scheduled run sync is account-wide:
`runs.account_sync`).

Several tenants per task spend the task overhead once (docs/performance.md). One
tenant's failure does not stop the batch. When the rate limiter cannot grant a call in time,
the batch stops and hands the tenants it did not reach back to the task, to retry later.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import F
from django.utils import timezone

from core import log_context
from core.accounts import AccountTokenUnavailable
from integrator.client import IntegratorClient
from integrator.errors import RateLimitedError
from runs.call_budget import CallCounter, build_runs_client
from runs.checks import tenant_connections_check
from runs.models import SyncState
from runs.scheduling import live_tenants
from runs.sync import tenant_runs_sync
from tenants.call_costs import call_counts_add
from tenants.models import CallPurpose, Tenant

logger = logging.getLogger(__name__)


@dataclass
class BatchResult:
    done: int = 0
    calls: int = 0
    failed: int = 0
    # Tenants not reached because the rate limiter said wait `retry_after` seconds.
    retry_ids: list[int] = field(default_factory=list)
    retry_after: float = 0.0


def _run(
    *,
    tenant_ids: list[int],
    purpose: str,
    work: Callable[[Tenant, IntegratorClient, CallCounter], object],
) -> BatchResult:
    result = BatchResult()
    counter = CallCounter()
    # Each tenant's calls, added to its costs in one upsert at the end of the batch.
    costs: dict[tuple[int, str], int] = {}
    # One client per integrator.io account of the batch's tenants (each its own bucket,
    # breaker and pause).
    clients: dict[int, IntegratorClient] = {}
    tenants = {t.pk: t for t in live_tenants().filter(pk__in=tenant_ids).select_related("account")}
    ordered = [tenants[pk] for pk in tenant_ids if pk in tenants]
    try:
        for index, tenant in enumerate(ordered):
            before = counter.calls
            with log_context.bound(tenant=tenant.external_id):
                try:
                    client = clients.get(tenant.account_id)
                    if client is None:
                        client = clients[tenant.account_id] = build_runs_client(
                            account=tenant.account, counter=counter
                        )
                    outcome = work(tenant, client, counter)
                except RateLimitedError as error:
                    costs[(tenant.pk, purpose)] = counter.calls - before
                    result.retry_ids = [t.pk for t in ordered[index:]]
                    result.retry_after = error.retry_after or 1.0
                    break
                except AccountTokenUnavailable as error:
                    # The account has no token we can use: an operator's to fix, said as
                    # such on the tenant and in one line, not as an internal error.
                    logger.warning("run sync or check of a tenant not made: %s", error.message)
                    SyncState.objects.filter(tenant=tenant).update(
                        last_attempt_at=timezone.now(),
                        last_error=error.message,
                        consecutive_failures=F("consecutive_failures") + 1,
                    )
                    result.failed += 1
                    continue
                except Exception:
                    # One tenant's unexpected failure (a bug, a database hiccup) must not
                    # starve the rest of the batch; it is logged and shown on the tenant.
                    logger.exception("run sync or check of a tenant failed unexpectedly")
                    SyncState.objects.filter(tenant=tenant).update(
                        last_attempt_at=timezone.now(),
                        last_error="Internal error while syncing; see the worker log.",
                        consecutive_failures=F("consecutive_failures") + 1,
                    )
                    result.failed += 1
                    costs[(tenant.pk, purpose)] = counter.calls - before
                    continue
            costs[(tenant.pk, purpose)] = counter.calls - before
            result.done += 1
            if getattr(outcome, "error", ""):
                result.failed += 1
    finally:
        for client in clients.values():
            client.close()
        call_counts_add(costs)
    result.calls = counter.calls
    return result


def sync_batch_run(*, tenant_ids: list[int]) -> BatchResult:
    return _run(
        tenant_ids=tenant_ids,
        purpose=CallPurpose.SYNC,
        work=lambda tenant, client, counter: tenant_runs_sync(
            tenant=tenant, client=client, counter=counter
        ),
    )


def check_batch_run(*, tenant_ids: list[int]) -> BatchResult:
    return _run(
        tenant_ids=tenant_ids,
        purpose=CallPurpose.CHECK,
        work=lambda tenant, client, counter: tenant_connections_check(tenant=tenant, client=client),
    )
