"""What runs records when another app reports something (see provisioning.signals)."""

import logging

from django.db import DatabaseError

from runs.health import health_rollup, tenant_health_evaluate
from runs.mirror import runs_abandon, tenant_flows_record
from runs.models import TenantHealth
from tenants.models import Tenant, TenantStatus

logger = logging.getLogger(__name__)


def flows_observed_record(sender, *, tenant, flows, **kwargs) -> None:
    """A provisioning job has just changed (or removed) the tenant's flows: the flow list
    shows them at once instead of at the next connection check."""
    tenant_flows_record(tenant=tenant, flows=flows)


def connection_saved_record(sender, *, tenant, **kwargs) -> None:
    """A slot's new credentials worked: a tenant degraded by that slot's failed check is
    judged again now, so that the API and health stop naming a connection its customer has
    just fixed. Only a degraded tenant can recover; any other is left to the scheduled check."""
    if not Tenant.objects.filter(pk=tenant.pk, status=TenantStatus.DEGRADED).exists():
        return
    try:
        tenant_health_evaluate(tenant=Tenant.objects.get(pk=tenant.pk))
    except DatabaseError:
        # The credentials are saved whatever happens here; the next check judges again.
        logger.warning("health not re-judged after a saved connection", exc_info=True)


def drift_changed_record(sender, *, tenant, **kwargs) -> None:
    """The drift check found a part of the tenant's integration gone, or found it back: a live
    tenant's health is judged again now (runs.health, rule 3), in the check's transaction."""
    if not Tenant.objects.filter(
        pk=tenant.pk, status__in=(TenantStatus.ACTIVE, TenantStatus.DEGRADED)
    ).exists():
        return
    try:
        tenant_health_evaluate(tenant=Tenant.objects.get(pk=tenant.pk))
    except DatabaseError:
        # The drift record stands whatever happens here; the next sync or check judges again.
        logger.warning("health not re-judged after a drift check", exc_info=True)


def tenant_held_degraded_reasons(sender, *, tenant, **kwargs) -> list[str]:
    """A job succeeded on a degraded tenant: the problems the health rules still see (runs.
    health), which keep it degraded. Only when these rules degraded it: a tenant degraded by
    a failed job is the next successful job's to recover."""
    if not TenantHealth.objects.filter(tenant=tenant, degraded_by_health=True).exists():
        return []
    rollup = health_rollup(tenant=tenant)
    return list(rollup.reasons) if rollup.has_problems else []


def tenant_deprovisioned_record(sender, *, tenant, previous_status, **kwargs) -> None:
    """A deprovisioned tenant is never synced again: its runs still open are closed now, in
    the transaction of the move, rather than said to be running for ever."""
    if tenant.status == TenantStatus.DEPROVISIONED:
        runs_abandon(tenant=tenant, at=tenant.status_changed_at)
