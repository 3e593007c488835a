"""Reads of the mirror, shaped for the API and the admin."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet

from runs.models import FlowRun, SyncState, TenantFlow
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
