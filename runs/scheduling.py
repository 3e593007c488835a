"""Which tenants the check tick hands to workers, within the call budget (see call_budget).

Every RUNS_SYNC_TICK_SECONDS a tick may spend `calls per second x tick seconds` calls. It
takes live tenants whose connection check is due, oldest due first, pricing each at one ping
per connection plus the flows listing, until the tick's budget is spent. Their next check is
set one interval ahead in the same transaction (so overlapping ticks never take a tenant
twice), and they go to workers in batches. A tenant that does not fit waits for the next tick.
A check set further ahead than the interval (RUNS_CHECK_INTERVAL_SECONDS made shorter) is
pulled forward to one interval after the tenant's last check (after the tick, never checked).

Runs are not synced per tenant on a schedule any more: one account-wide cycle covers every
tenant of an account (`runs.account_sync`). SyncState still says when a tenant's runs were
last synced (by that cycle or on demand) and holds its check schedule.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from runs.call_budget import check_calls_per_second
from runs.models import SyncState
from tenants.models import Tenant, TenantConnection, TenantStatus

LIVE_STATUSES = (TenantStatus.ACTIVE, TenantStatus.DEGRADED)
CHECK_BATCH_SIZE = 20


def live_tenants() -> QuerySet[Tenant]:
    """Tenants whose integration runs: synced and checked."""
    return Tenant.objects.filter(status__in=LIVE_STATUSES).exclude(integration_id="")


def sync_state_for(*, tenant: Tenant, now: datetime | None = None) -> SyncState:
    now = now or timezone.now()
    state, _ = SyncState.objects.get_or_create(
        tenant=tenant,
        defaults={
            "next_sync_at": now + timedelta(seconds=settings.RUNS_SYNC_INTERVAL_SECONDS),
            "next_check_at": now,
        },
    )
    return state


def sync_states_ensure(*, now: datetime | None = None) -> int:
    """Give every live tenant without one a SyncState, due now; returns how many were made."""
    now = now or timezone.now()
    missing = list(live_tenants().filter(run_sync__isnull=True).values_list("pk", flat=True))
    SyncState.objects.bulk_create(
        [SyncState(tenant_id=pk, next_sync_at=now, next_check_at=now) for pk in missing],
        ignore_conflicts=True,
    )
    return len(missing)


def tick_budget(*, calls_per_second: float, tick_seconds: float | None = None) -> int:
    """Calls one tick may spend (at least one, so that progress never stops)."""
    seconds = settings.RUNS_SYNC_TICK_SECONDS if tick_seconds is None else tick_seconds
    # The epsilon: 0.25 x 300 x 20% is 14.999999999999996 in floating point, not 15.
    return max(1, int(calls_per_second * seconds + 1e-9))


def _due(field: str, now: datetime) -> QuerySet[SyncState]:
    return SyncState.objects.filter(
        Q(**{f"{field}__lte": now}),
        tenant__status__in=LIVE_STATUSES,
    ).exclude(tenant__integration_id="")


def _claim(
    *,
    field: str,
    interval_seconds: int,
    budget: int,
    cost_of: Callable[[list[int]], dict[int, int]],
    now: datetime,
) -> list[int]:
    with transaction.atomic():
        candidates = list(
            _due(field, now)
            .select_for_update(skip_locked=True, of=("self",))
            .order_by(field, "tenant_id")
            .values_list("tenant_id", flat=True)[:budget]
        )
        costs = cost_of(candidates)
        chosen: list[int] = []
        spent = 0
        for tenant_id in candidates:
            cost = max(1, costs.get(tenant_id, 1))
            if chosen and spent + cost > budget:
                break
            chosen.append(tenant_id)
            spent += cost
        SyncState.objects.filter(tenant_id__in=chosen).update(
            **{field: now + timedelta(seconds=interval_seconds)}
        )
    return chosen


def tenants_due_again(*, field: str, tenant_ids: list[int], now: datetime | None = None) -> int:
    """Make tenants a batch could not reach due again now (`field`: next_sync_at or
    next_check_at), so that the next tick takes them first instead of a whole interval later.
    An outage or a long rate limit thus delays a tenant's sync, never skips it."""
    return SyncState.objects.filter(tenant_id__in=tenant_ids).update(
        **{field: now or timezone.now()}
    )


def _checks_pull_forward(*, interval_seconds: int, now: datetime) -> int:
    """Checks scheduled under a longer interval (the setting made shorter since) come one
    interval after the tenant's last check, due now if that has passed; returns how many."""
    interval = timedelta(seconds=interval_seconds)
    return SyncState.objects.filter(next_check_at__gt=now + interval).update(
        next_check_at=Coalesce("last_checked_at", Value(now)) + interval
    )


def _check_costs(tenant_ids: list[int]) -> dict[int, int]:
    pings = dict(
        TenantConnection.objects.filter(tenant_id__in=tenant_ids)
        .exclude(connection_id="")
        .values("tenant_id")
        .annotate(total=Count("id"))
        .values_list("tenant_id", "total")
    )
    return {tenant_id: pings.get(tenant_id, 0) + 1 for tenant_id in tenant_ids}


def _batches(tenant_ids: list[int], size: int) -> list[list[int]]:
    return [tenant_ids[i : i + size] for i in range(0, len(tenant_ids), size)]


def tenants_due_for_check(
    *, now: datetime | None = None, budget: int | None = None
) -> list[list[int]]:
    """Claim the tenants whose connections this tick checks, in worker batches."""
    now = now or timezone.now()
    sync_states_ensure(now=now)
    _checks_pull_forward(interval_seconds=settings.RUNS_CHECK_INTERVAL_SECONDS, now=now)
    chosen = _claim(
        field="next_check_at",
        interval_seconds=settings.RUNS_CHECK_INTERVAL_SECONDS,
        budget=tick_budget(calls_per_second=check_calls_per_second()) if budget is None else budget,
        cost_of=_check_costs,
        now=now,
    )
    return _batches(chosen, CHECK_BATCH_SIZE)
