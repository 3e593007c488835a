"""Reads of the mirror, shaped for the API and the admin."""

from __future__ import annotations

from datetime import datetime

from django.db.models import OuterRef, QuerySet, Subquery

from runs.account_sync import DEFAULT_ACCOUNT_KEY, account_live_tenants
from runs.models import FlowRun, RunSyncCursor, SyncState, TenantFlow, TenantHealth
from tenants.models import Tenant


def run_list(
    *,
    tenant: Tenant,
    status: str | None = None,
    flow_id: str | None = None,
    since: datetime | None = None,
) -> QuerySet[FlowRun]:
    """The tenant's runs, newest first (by integrator.io's createdAt)."""
    runs = FlowRun.objects.filter(tenant=tenant)
    if status:
        runs = runs.filter(status=status)
    if flow_id:
        runs = runs.filter(flow_id=flow_id)
    if since:
        runs = runs.filter(created_at__gte=since)
    return runs


def flow_list(*, tenant: Tenant, include_removed: bool = False) -> QuerySet[TenantFlow]:
    flows = TenantFlow.objects.filter(tenant=tenant)
    return flows if include_removed else flows.filter(removed_at__isnull=True)


def flow_names(*, tenant: Tenant) -> dict[str, str]:
    """Flow id to name for every flow the tenant ever had (removed ones included)."""
    return dict(TenantFlow.objects.filter(tenant=tenant).values_list("flow_id", "name"))


def sync_state_get(*, tenant: Tenant) -> SyncState | None:
    return SyncState.objects.filter(tenant=tenant).first()


def health_get(*, tenant: Tenant) -> TenantHealth | None:
    return TenantHealth.objects.filter(tenant=tenant).first()


def with_flow_names(runs: QuerySet[FlowRun]) -> QuerySet[FlowRun]:
    """`runs` with each run's flow name as `flow_name` (None for a flow never listed)."""
    name = TenantFlow.objects.filter(tenant=OuterRef("tenant"), flow_id=OuterRef("flow_id"))
    return runs.annotate(flow_name=Subquery(name.values("name")[:1]))


def latest_runs(*, tenant: Tenant, limit: int) -> list[FlowRun]:
    """The tenant's newest runs, each with its `flow_name`."""
    runs = with_flow_names(FlowRun.objects.filter(tenant=tenant))
    return list(runs.order_by("-created_at", "-id")[:limit])


def latest_run_per_flow(*, tenant: Tenant, scan: int = 200) -> dict[str, FlowRun]:
    """Each flow's newest run among the tenant's `scan` newest (a flow that has not run in
    that long has none here)."""
    latest: dict[str, FlowRun] = {}
    for run in FlowRun.objects.filter(tenant=tenant).order_by("-created_at")[:scan]:
        latest.setdefault(run.flow_id, run)
    return latest


def tenant_sync_times(*, tenant: Tenant) -> dict:
    """When the tenant's runs were last synced, last tried and will next be, and when its
    connections were last checked: its own SyncState (an on-demand sync, the account sync
    when its runs changed, the check), and the account-wide cycle, which covers every live
    tenant of its account whether or not its runs changed."""
    state = sync_state_get(tenant=tenant)
    cursor = None
    if account_live_tenants(DEFAULT_ACCOUNT_KEY).filter(pk=tenant.pk).exists():
        cursor = RunSyncCursor.objects.filter(key=DEFAULT_ACCOUNT_KEY).first()

    def newest(*values):
        return max((v for v in values if v is not None), default=None)

    return {
        "last_synced_at": newest(
            state.last_synced_at if state else None, cursor.last_synced_at if cursor else None
        ),
        "last_attempt_at": newest(
            state.last_attempt_at if state else None, cursor.last_attempt_at if cursor else None
        ),
        "last_error": ((cursor.last_error if cursor else "") or (state.last_error if state else ""))
        or None,
        "next_sync_at": cursor.next_sync_at if cursor else None,
        "last_checked_at": state.last_checked_at if state else None,
    }
