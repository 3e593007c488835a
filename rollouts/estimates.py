"""What moving one tenant would cost: the hook the upgrade engine fills.

The engine's planner knows, for a tenant and a version, the changes an upgrade makes and the
integrator.io calls they take (provisioning.reconcile); the dry run shows them per tenant when
this returns them. Until the engine answers, there is no estimate, and the dry run says
nothing rather than guess.
"""

from __future__ import annotations

from tenants.models import TemplateVersion, Tenant


def rollout_cost_estimate(tenant: Tenant, to_version: TemplateVersion) -> dict | None:
    """E.g. {"changes": 4, "api_calls": 9}, or None when unknown (today, always)."""
    return None
