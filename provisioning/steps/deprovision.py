"""Removing everything a tenant has in integrator.io, in an order that never leaves a flow
running against a half-deleted integration. The tenant's rows stay, for audit.

1. disable_flows: find the tenant's integration (its committed id; failing that, its mark,
   if a clone was ever attempted), read it, and leave it alone if it carries another
   deployment's (or another tenant's) mark: that is reported in the step's output as
   `skipped`. Take an inventory of its flows, exports, imports and connections, which the
   later steps delete from (after the flows are gone, the integration may no longer list its
   exports). PATCH `disabled: true` on each enabled flow.
2. delete_flows, 3. delete_exports, 4. delete_imports, 5. delete_integration: DELETE each
   one; a 404 counts as done (an earlier attempt, or someone else, deleted it). The tenant
   forgets its integration id with step 5's success (the job's steps keep it as history).
6. delete_connections: the tenant's own connections (its TenantConnection rows) and the
   copies the clone made, never a connection of the template, and none marked as another
   deployment's or another tenant's. The tenant's slots forget them (status `missing`).

The runner then makes the tenant `deprovisioned`.
"""

from __future__ import annotations

from collections.abc import Callable

from core.remote_marks import connection_mark, integration_mark
from integrator.client import replace_operations
from integrator.errors import NotFoundError
from provisioning.ownership import connection_may_delete, mark_forbids, mark_is_tenants
from provisioning.steps.context import StepContext
from provisioning.steps.provision import clone_intents
from tenants.models import TenantConnection


def disable_flows(ctx: StepContext) -> dict:
    integration_id, foreign = _find_integration(ctx)
    inventory: dict = {
        "integration_id": integration_id,
        "flows": [],
        "exports": [],
        "imports": [],
        "skipped": foreign,
    }
    clone_connections: list[dict] = []
    if integration_id:
        try:
            client = ctx.client
            flows = client.list_integration_flows(integration_id)
            inventory["exports"] = [e.id for e in client.list_integration_exports(integration_id)]
            inventory["imports"] = [i.id for i in client.list_integration_imports(integration_id)]
            clone_connections = [c.raw for c in client.list_integration_connections(integration_id)]
        except NotFoundError:
            flows = []
        inventory["flows"] = [f.id for f in flows]
        for flow in flows:
            if not flow.disabled:
                _tolerate_404(
                    ctx.client.patch_flow, flow.id, replace_operations({"disabled": True})
                )
    inventory["connections"], skipped = _connections_to_delete(ctx, clone_connections)
    inventory["skipped"] += skipped
    return inventory


def _find_integration(ctx: StepContext) -> tuple[str, list[dict]]:
    """(the tenant's integration to remove, or "", and what was found but is not ours).

    Its committed id, or the clone that an interrupted provision made (found by the tenant's
    mark, see provision.clone). An integration that carries another deployment's (or another
    tenant's) mark is left alone and reported: deleting it would take a live integration from
    someone else.
    """
    integration_id = ctx.tenant.integration_id
    if not integration_id:
        if not clone_intents(tenant_pk=ctx.tenant.pk):
            return "", []
        matches = sorted(
            i.id
            for i in ctx.client.list_integrations(include=["tag"])
            if mark_is_tenants(integration_mark(i.raw), tenant=ctx.tenant)
        )
        if not matches:
            return "", []
        integration_id = matches[0]
        ctx.commit_integration(integration_id)
    try:
        doc = ctx.client.get_integration(integration_id).raw
    except NotFoundError:
        return "", []
    reason = mark_forbids(integration_mark(doc), tenant=ctx.tenant)
    if reason:
        return "", [{"model": "Integration", "id": integration_id, "reason": reason}]
    return integration_id, []


def _connections_to_delete(
    ctx: StepContext, clone_connections: list[dict]
) -> tuple[list[str], list[dict]]:
    """The tenant's own connections and the copies its clone made, never a template's, and
    only those that are not marked as someone else's."""
    template_ids = {slot["template_connection_id"] for slot in ctx.template.slots}
    own = set(
        TenantConnection.objects.filter(tenant_id=ctx.tenant.pk)
        .exclude(connection_id="")
        .values_list("connection_id", flat=True)
    )
    docs = {doc["_id"]: doc for doc in clone_connections}
    for connection_id in sorted(own - set(docs)):
        try:
            docs[connection_id] = ctx.client.get_connection(connection_id).raw
        except NotFoundError:
            continue
    delete, skipped = [], []
    for connection_id, doc in docs.items():
        if connection_id in template_ids:
            continue
        if connection_may_delete(doc, tenant=ctx.tenant, own_ids=own, template_ids=template_ids):
            delete.append(connection_id)
        elif connection_id in own or connection_mark(doc) is not None:
            skipped.append(
                {
                    "model": "Connection",
                    "id": connection_id,
                    "reason": mark_forbids(connection_mark(doc), tenant=ctx.tenant)
                    or "it is not one of this tenant's connections",
                }
            )
    return delete, skipped


def delete_flows(ctx: StepContext) -> dict:
    return _delete_all(ctx.client.delete_flow, _inventory(ctx)["flows"])


def delete_exports(ctx: StepContext) -> dict:
    return _delete_all(ctx.client.delete_export, _inventory(ctx)["exports"])


def delete_imports(ctx: StepContext) -> dict:
    return _delete_all(ctx.client.delete_import, _inventory(ctx)["imports"])


def delete_integration(ctx: StepContext) -> dict:
    integration_id = _inventory(ctx)["integration_id"]
    done = _delete_all(ctx.client.delete_integration, [integration_id] if integration_id else [])
    if integration_id:
        ctx.commit_integration("")
    return done


def delete_connections(ctx: StepContext) -> dict:
    connections = _inventory(ctx)["connections"]
    done = _delete_all(ctx.client.delete_connection, connections)
    ctx.commit_connections_deleted(connections)
    return done


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
