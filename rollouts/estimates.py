"""What moving one tenant would cost, for a rollout's dry run: the changes and integrator.io
calls of the upgrade job's reconcile from the tenant's version to the target, the estimate of
the tenant plan (`provisioning.services.plans.reconcile_estimate`, one source of truth), with
the tenant's integration taken to be exactly its version (not drifted), so a dry run over
thousands of tenants reads nothing remotely.
"""

from __future__ import annotations

from collections import Counter

from core.errors import ApplicationError
from provisioning.desired_states import tenant_connection_map, tenant_desired_state
from provisioning.reconcile.simulate import as_observed
from provisioning.services.plans import reconcile_estimate
from tenants.models import TemplateVersion, Tenant


def rollout_cost_estimate(tenant: Tenant, to_version: TemplateVersion) -> dict | None:
    """E.g. {"changes": 4, "api_calls": 16, "by_kind": {"AddFlow": 1, ...}}; None when it
    cannot be known (a version without a snapshot, settings that fit neither)."""
    try:
        desired = {
            version.pk: tenant_desired_state(
                tenant=tenant,
                version=version,
                connection_map=tenant_connection_map(tenant=tenant, version=version),
            )
            for version in (tenant.template_version, to_version)
        }
    except ApplicationError:
        return None
    estimate = reconcile_estimate(
        desired=desired[to_version.pk], observed=as_observed(desired[tenant.template_version_id])
    )
    changes = estimate.changes
    return {
        "changes": len(changes),
        "api_calls": estimate.api_calls,
        "by_kind": dict(sorted(Counter(type(c).__name__ for c in changes).items())),
    }
