"""Which integrator.io resources a tenant's jobs may adopt, change or delete.

Only resources that carry this deployment's mark for the tenant (core.remote_marks), its
legacy mark (written before deployments had an identity), or no mark at all but our own
committed id. A resource that names another deployment, or another tenant of ours, is never
touched: a job stops with a message for a person instead.
"""

from __future__ import annotations

from core.deployment import deployment_identity
from core.remote_marks import RemoteMark, connection_mark, integration_mark
from provisioning.errors import StepFailed
from tenants.models import Tenant


def mark_is_tenants(mark: RemoteMark | None, *, tenant: Tenant) -> bool:
    """The mark names this tenant of this deployment (or, legacy, its row id)."""
    if mark is None:
        return False
    if mark.is_legacy:
        return mark.legacy_tenant_pk == tenant.pk
    return mark.is_ours and mark.tenant_uid == tenant.uid


def mark_forbids(mark: RemoteMark | None, *, tenant: Tenant) -> str:
    """Why a resource with this mark is not the tenant's to touch ("" when it may be)."""
    if mark is None or mark_is_tenants(mark, tenant=tenant):
        return ""
    if mark.is_legacy:
        return f"it is marked for another tenant (row {mark.legacy_tenant_pk})"
    if mark.deployment != deployment_identity():
        return f"it belongs to another deployment ({mark.deployment})"
    return f"it belongs to another tenant of this deployment ({mark.tenant_uid})"


def integration_require_tenants(doc: dict, *, tenant: Tenant) -> None:
    """Raise StepFailed unless the integration may be changed by the tenant's jobs."""
    reason = mark_forbids(integration_mark(doc), tenant=tenant)
    if reason:
        raise StepFailed(
            "integration_not_ours",
            f"The integration {doc.get('_id')} is not this tenant's: {reason}. Nothing was "
            "changed; if the tenant's record points at it by mistake (a restored database?), "
            "see the README's section on deployment identity.",
        )


def connection_may_delete(
    doc: dict, *, tenant: Tenant, own_ids: set[str], template_ids: set[str]
) -> bool:
    """A connection is deleted with the tenant only if it carries the tenant's mark, or no
    mark and we know it as the tenant's own (`own_ids`, its connection rows) or as a copy the
    clone made of one of the template's connections (`template_ids`, never deleted)."""
    if doc.get("_id") in template_ids:
        return False
    mark = connection_mark(doc)
    if mark is None:
        return doc.get("_id") in own_ids or doc.get("_sourceId") in template_ids
    return mark_is_tenants(mark, tenant=tenant)
