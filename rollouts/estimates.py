"""What moving one tenant would cost, for a rollout's dry run: the changes and integrator.io
calls of the plan from the tenant's version to the target, computed from the two versions'
snapshots (provisioning.reconcile: the tenant's integration taken to be exactly its version,
i.e. not drifted), so a dry run over thousands of tenants reads nothing remotely.
"""

from __future__ import annotations

from collections import Counter
from itertools import takewhile

from core.errors import ApplicationError
from provisioning.desired_states import tenant_connection_map, tenant_desired_state
from provisioning.reconcile import simulate
from provisioning.reconcile.apply import resolvable
from provisioning.reconcile.planner import plan
from provisioning.reconcile.simulate import api_calls, as_observed
from provisioning.reconcile.state import DesiredState
from provisioning.steps.reconcile import MAX_ROUNDS
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
    changes = _carried_out(desired[to_version.pk], desired[tenant.template_version_id])
    return {
        "changes": len(changes),
        "api_calls": api_calls(changes),
        "by_kind": dict(sorted(Counter(type(c).__name__ for c in changes).items())),
    }


def _carried_out(target: DesiredState, current: DesiredState) -> list:
    """The changes an upgrade job carries out, round by round as the reconcile step does (each
    round up to the first change that needs a flow added in it), in the model of
    integrator.io (`simulate`): a plan's later changes to an added flow's copies are not made
    when the clone already holds them."""
    state, source = as_observed(current), as_observed(target)
    done: list = []
    for _ in range(MAX_ROUNDS):
        changes = plan(target, state)
        if not changes:
            break
        prefix = list(takewhile(resolvable, changes))
        done += prefix
        state = simulate.apply(state, prefix, source=source)
    return done
