"""Reads of the mirror, shaped for the API and the admin."""

from __future__ import annotations

from datetime import datetime

from django.db.models import OuterRef, QuerySet, Subquery

from runs.models import FlowRun, SyncState, TenantFlow, TenantHealth
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
