"""How jobs move their tenant through its statuses (the table is tenants' ALLOWED_TRANSITIONS).

| job                         | starts                       | succeeds       | fails           |
| --------------------------- | ---------------------------- | -------------- | --------------- |
| provision                   | provisioning (when asked for)| active         | failed          |
| repair, upgrade             | provisioning (first step),   | active         | failed/degraded |
|                             | unless live                  |                |                 |
| provision, credentials gone | -                            | awaiting_credentials (canceled job) |
| update_settings             | failed -> provisioning       | active         | failed/degraded |
| deprovision                 | deprovisioning               | deprovisioned  | failed          |

"failed/degraded": a job on a live integration (the tenant active or degraded when it
started: it stays so while the job runs) leaves the integration running as it was when it
fails, so the tenant becomes (or stays) degraded with the job's error in `last_error`; the
table has no active -> failed, and `failed` means building failed: the integration is not
live. A job on a tenant that was not live (a failed one, say) leaves it failed.

"active" on success: unless the tenant is degraded for what the job does not touch (its
health rules: a connection failing its checks, flows failing), which keeps it degraded
(`tenant_job_succeeded`).
"""

from __future__ import annotations

from provisioning.errors import StepFailed
from provisioning.job_progress import tenant_row_locked
from provisioning.signals import tenant_held_degraded
from tenants.models import Tenant, TenantStatus
from tenants.services import ALLOWED_TRANSITIONS, tenant_transition

GONE = (TenantStatus.DEPROVISIONING, TenantStatus.DEPROVISIONED)
# The tenant's integration is built and running (its flows run, runs are synced).
LIVE_STATUSES = (TenantStatus.ACTIVE, TenantStatus.DEGRADED)


def tenant_locked(*, tenant_pk: int) -> Tenant:
    """The tenant's identity, status and version fields (what a status change, an upgrade's
    end and the webhook events recorded with them read: an event names the incarnation too),
    with its row locked until the transaction ends. Spelled out (provisioning.job_progress):
    every job's end locks it."""
    return tenant_row_locked(tenant_pk=tenant_pk)


def tenant_move(*, tenant: Tenant, to: str, fallback_error: str = "") -> None:
    """Move the tenant to `to`, clearing its error. If the table does not allow the move, it
    becomes failed with `fallback_error` instead (when given), else StepFailed."""
    if tenant.status == to:
        if tenant.last_error:
            Tenant.objects.filter(pk=tenant.pk).update(last_error="")
        return
    if to in ALLOWED_TRANSITIONS[tenant.status]:
        tenant_transition(tenant=tenant, to=to)
    elif fallback_error:
        tenant_fail(tenant=tenant, error=fallback_error)
    else:
        raise StepFailed(
            "tenant_status_conflict", f"The tenant cannot go from {tenant.status} to {to}."
        )


def tenant_job_succeeded(*, tenant: Tenant) -> None:
    """A job succeeded: the tenant is active, unless it is degraded and another app still
    holds it so (provisioning.signals.tenant_held_degraded): then it stays degraded, and
    `last_error` says why (a failed job's error it may have held is the job's to clear)."""
    if tenant.status == TenantStatus.DEGRADED:
        answers = tenant_held_degraded.send(sender=Tenant, tenant=tenant)
        reasons = [reason for _, held in answers for reason in held or ()]
        if reasons:
            Tenant.objects.filter(pk=tenant.pk).update(last_error=" ".join(reasons))
            return
    tenant_move(tenant=tenant, to=TenantStatus.ACTIVE)


def tenant_fail(*, tenant: Tenant, error: str) -> None:
    """Record a job's failure on its tenant: a live one becomes (or stays) degraded, another
    failed where allowed, else degraded, else only `last_error` (the module docstring)."""
    # The table allows degraded -> failed, but a job failing on a live integration leaves it
    # running as it was: a degraded tenant whose repair fails is still live, not failed.
    live = tenant.status in LIVE_STATUSES
    candidates = (TenantStatus.DEGRADED,) if live else (TenantStatus.FAILED, TenantStatus.DEGRADED)
    for status in candidates:
        if tenant.status == status:
            Tenant.objects.filter(pk=tenant.pk).update(last_error=error)
            return
        if status in ALLOWED_TRANSITIONS[tenant.status]:
            tenant_transition(tenant=tenant, to=status, error=error)
            return
    Tenant.objects.filter(pk=tenant.pk).update(last_error=error)
