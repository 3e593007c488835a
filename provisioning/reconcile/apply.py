"""Carrying out one change of a plan through the client. No Django.

Each change is one remote operation (a delete also removes the steps it names) and is safe
to repeat: a resumed job observes and plans again, so a change that already took effect is
simply not in the next plan. Two kinds need care:

- `AddFlow` is a POST that creates: the caller records its intent first, and an answer that
  is lost (OutcomeUnknownError) is never re-sent here. The job retries later and observes:
  a flow with that `_sourceId` in the integration is the clone, and the plan no longer adds
  it.
- A change that names its target by source id (a flow this plan adds, or its steps) cannot
  be carried out before that target exists and has been read: `resolvable` says so, and the
  caller observes and plans again after the clone.

`CloneIntegration` is not carried out here: cloning a tenant's integration is the
provisioning engine's (with its own exactly-once rules), so a reconcile that finds no
integration stops and asks for a repair.
"""

from __future__ import annotations

import contextlib

from integrator.client import IntegratorClient
from integrator.errors import NotFoundError
from integrator.quirks import replacement_document
from provisioning.reconcile.changes import (
    AddFlow,
    Change,
    DeleteFlow,
    DeleteStep,
    ReplaceConnection,
    UpdateFlow,
    UpdateIntegration,
    UpdateStep,
)
from provisioning.reconcile.documents import marker_of, settings_with_marker
from provisioning.reconcile.state import ObservedState

# Flow fields integrator.io lets a PATCH set (docs/integrator-io.md, Transport); the flow's
# `settings` are written with a GET and a PUT of the whole flow.
_PATCHABLE_FLOW_FIELDS = ("name", "schedule", "timezone", "disabled")


def resolvable(change: Change) -> bool:
    """Whether the change names existing resources by id (see the module's docstring)."""
    if isinstance(change, UpdateStep | UpdateFlow):
        return (change.step_id if isinstance(change, UpdateStep) else change.flow_id) is not None
    return True


def change_apply(client: IntegratorClient, change: Change, *, observed: ObservedState) -> None:
    """Carry `change` out against the integration `observed` describes."""
    if isinstance(change, AddFlow):
        client.clone_flow(
            change.flow_source_id,
            integration_id=change.integration_id,
            connection_map=change.connection_map,
            name=change.name,
        )
    elif isinstance(change, DeleteFlow):
        kinds = {step.id: step.kind for step in observed.steps}
        with contextlib.suppress(NotFoundError):
            client.delete_flow(change.flow_id)
        for step_id in change.step_ids:
            delete = (
                client.delete_export if kinds.get(step_id) == "export" else client.delete_import
            )
            with contextlib.suppress(NotFoundError):
                delete(step_id)
    elif isinstance(change, DeleteStep):
        delete = client.delete_export if change.kind == "export" else client.delete_import
        with contextlib.suppress(NotFoundError):
            delete(change.step_id)
    elif isinstance(change, UpdateStep):
        read = next((step.doc for step in observed.steps if step.id == change.step_id), None)
        edit = lambda doc: doc.update(change.values)  # noqa: E731
        if read:
            # The round has just read the document: PUT it back changed, without a GET.
            update = client.update_export if change.kind == "export" else client.update_import
            update(change.step_id, replacement_document(dict(read), edit))
        else:
            modify = client.modify_export if change.kind == "export" else client.modify_import
            modify(change.step_id, edit)
    elif isinstance(change, ReplaceConnection):
        client.replace_connection(change.kind, change.step_id, change.connection_id)
    elif isinstance(change, UpdateFlow):
        _flow_update(client, change, observed)
    elif isinstance(change, UpdateIntegration):
        _integration_update(client, change, observed)
    else:
        raise TypeError(f"{type(change).__name__} is not carried out by a reconcile")


def _flow_update(client: IntegratorClient, change: UpdateFlow, observed: ObservedState) -> None:
    current = next((flow for flow in observed.flows if flow.id == change.flow_id), None)
    present = current.doc if current is not None else {}
    # `add` sets a member the flow lacks (a clone has no schedule); `replace` needs it to
    # exist (RFC 6902). `disabled` last: a flow starts only with its schedule set.
    operations = [
        {
            "op": "replace" if present.get(name) is not None else "add",
            "path": f"/{name}",
            "value": change.values[name],
        }
        for name in _PATCHABLE_FLOW_FIELDS
        if name in change.values
    ]
    if "settings" in change.values:
        settings = change.values["settings"]
        client.modify_flow(change.flow_id, lambda doc: doc.update(settings=settings))
    if operations:
        client.patch_flow(change.flow_id, operations)


def _integration_update(
    client: IntegratorClient, change: UpdateIntegration, observed: ObservedState
) -> None:
    values = change.values

    def edit(doc: dict) -> None:
        current = doc.get("settings") if isinstance(doc.get("settings"), dict) else {}
        settings = values.get("settings", current)
        version = values.get("applied_version", marker_of(current))
        doc["settings"] = settings_with_marker(settings, version)
        for name in ("name", "tag"):
            if name in values:
                doc[name] = values[name]

    if observed.doc and observed.integration_id == change.integration_id:
        # As read at the start of this round (nothing before this last change touches it).
        client.update_integration(
            change.integration_id, replacement_document(dict(observed.doc), edit)
        )
    else:
        client.modify_integration(change.integration_id, edit)
