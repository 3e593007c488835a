"""Removing everything a tenant has in integrator.io, in an order that never leaves a flow
running against a half-deleted integration. The tenant's rows stay, for audit.

1. disable_flows: find the tenant's integration (its committed id; failing that, its clone
   tag, if a clone was ever attempted) and take an inventory of its flows, exports, imports
   and connections, which the later steps delete from (after the flows are gone, the
   integration may no longer list its exports). PATCH `disabled: true` on each enabled flow.
2. delete_flows, 3. delete_exports, 4. delete_imports, 5. delete_integration: DELETE each
   one; a 404 counts as done (an earlier attempt, or someone else, deleted it).
6. delete_connections: the tenant's own connections (its TenantConnection rows) and any the
   clone still uses, never a connection of the template.

The runner then makes the tenant `deprovisioned`.
"""

from __future__ import annotations

from collections.abc import Callable

from integrator.client import replace_operations
from integrator.errors import NotFoundError
from provisioning.clone_tags import clone_tag
from provisioning.steps.context import StepContext
from provisioning.steps.provision import _clone_was_attempted
from tenants.models import TenantConnection


def disable_flows(ctx: StepContext) -> dict:
    integration_id = _find_integration(ctx)
    inventory: dict = {"integration_id": integration_id, "flows": [], "exports": [], "imports": []}
    clone_connections: list[str] = []
    if integration_id:
        try:
            client = ctx.client
            flows = client.list_integration_flows(integration_id)
            inventory["exports"] = [e.id for e in client.list_integration_exports(integration_id)]
            inventory["imports"] = [i.id for i in client.list_integration_imports(integration_id)]
            clone_connections = [c.id for c in client.list_integration_connections(integration_id)]
        except NotFoundError:
            flows = []
        inventory["flows"] = [f.id for f in flows]
        for flow in flows:
            if not flow.disabled:
                _tolerate_404(
                    ctx.client.patch_flow, flow.id, replace_operations({"disabled": True})
                )
    template_connections = {slot["template_connection_id"] for slot in ctx.template.slots}
    own = TenantConnection.objects.filter(tenant_id=ctx.tenant.pk).exclude(connection_id="")
    connections = dict.fromkeys([*own.values_list("connection_id", flat=True), *clone_connections])
    inventory["connections"] = [c for c in connections if c not in template_connections]
    return inventory


def _find_integration(ctx: StepContext) -> str:
    if ctx.tenant.integration_id:
        return ctx.tenant.integration_id
    tag = clone_tag(tenant_pk=ctx.tenant.pk, template_key=ctx.template.key)
    if not _clone_was_attempted(tenant_pk=ctx.tenant.pk, tag=tag):
        return ""
    matches = sorted(
        i.id for i in ctx.client.list_integrations(include=["tag"]) if i.raw.get("tag") == tag
    )
    if matches:
        ctx.commit_integration(matches[0])
        return matches[0]
    return ""


def delete_flows(ctx: StepContext) -> dict:
    return _delete_all(ctx.client.delete_flow, _inventory(ctx)["flows"])


def delete_exports(ctx: StepContext) -> dict:
    return _delete_all(ctx.client.delete_export, _inventory(ctx)["exports"])


def delete_imports(ctx: StepContext) -> dict:
    return _delete_all(ctx.client.delete_import, _inventory(ctx)["imports"])


def delete_integration(ctx: StepContext) -> dict:
    integration_id = _inventory(ctx)["integration_id"]
    return _delete_all(ctx.client.delete_integration, [integration_id] if integration_id else [])


def delete_connections(ctx: StepContext) -> dict:
    return _delete_all(ctx.client.delete_connection, _inventory(ctx)["connections"])


def _inventory(ctx: StepContext) -> dict:
    return ctx.outputs["disable_flows"]


def _delete_all(delete: Callable[[str], None], ids: list[str]) -> dict:
    deleted, already_gone = [], []
    for object_id in ids:
        (deleted if _tolerate_404(delete, object_id) else already_gone).append(object_id)
    return {"deleted": deleted, "already_gone": already_gone}


def _tolerate_404(call: Callable, *args) -> bool:
    """Run `call`; False if the object was not there (which is what we wanted anyway)."""
    try:
        call(*args)
    except NotFoundError:
        return False
    return True
