"""What moving one tenant would cost, for a rollout's dry run: the changes and integrator.io
calls of the plan from the tenant's version to the target, computed from the two versions'
snapshots (provisioning.reconcile: the tenant's integration taken to be exactly its version,
i.e. not drifted), so a dry run over thousands of tenants reads nothing remotely.
"""

from __future__ import annotations

from collections import Counter

from core.errors import ApplicationError
from provisioning.desired_states import tenant_connection_map, tenant_desired_state
from provisioning.reconcile.planner import plan
from provisioning.reconcile.simulate import api_calls, as_observed
from tenants.models import TemplateVersion, Tenant


def rollout_cost_estimate(tenant: Tenant, to_version: TemplateVersion) -> dict | None:
    """E.g. {"changes": 4, "api_calls": 9, "by_kind": {"AddFlow": 1, ...}}; None when it
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
    changes = plan(desired[to_version.pk], as_observed(desired[tenant.template_version_id]))
    return {
        "changes": len(changes),
        "api_calls": api_calls(changes),
        "by_kind": dict(sorted(Counter(type(c).__name__ for c in changes).items())),
    }
