"""The desired state: a tenant's integration as its template version and settings want it,
built from the version's snapshot (what the template integration held when the version was
published: tenants.services.template_snapshots), the tenant's effective settings placed by
the version's settings mapping, and the tenant's connections. No I/O.

- Flows and steps are the snapshot's, keyed by their ids there: a tenant's copies carry
  them as `_sourceId`.
- A flow runs unless the settings switch it off (provisioning.flow_switches); its schedule,
  timezone and flow settings come from the mapping (tenants.settings_mapping), its settings
  on top of the snapshot's.
- A step's managed fields are the snapshot document's (documents.managed_fields); its
  connection is the tenant's for the template connection it used.
- The integration's settings are the snapshot's with the mapped ones merged in.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from provisioning.flow_switches import flow_switches
from provisioning.reconcile.documents import flow_step_ids, managed_fields, settings_without_marker
from provisioning.reconcile.state import DesiredState, FlowSpec, StepSpec
from tenants.services.settings import deep_merge
from tenants.settings_mapping import pointer_set, settings_mapped, timezone_for_schedule


class SnapshotMissing(ValueError):
    """The version was published without a snapshot: there is nothing to reconcile to."""


def _with_mapped(fields: dict, pointers: Mapping[str, Any]) -> dict:
    """The step's fields with the settings mapped into them (at pointers that exist: the
    version's publication checked them against this snapshot)."""
    if not pointers:
        return fields
    fields = copy.deepcopy(fields)
    for pointer, value in pointers.items():
        pointer_set(fields, pointer, value)
    return fields


def desired_state(
    *,
    snapshot: Mapping[str, Any],
    template_key: str,
    version: str,
    source_integration_id: str,
    settings_schema: dict,
    settings_mapping: list,
    settings: dict,
    connection_map: Mapping[str, str],
    tag: str,
    name: str,
) -> DesiredState:
    if not snapshot or "flows" not in snapshot:
        raise SnapshotMissing(version)
    mapped = settings_mapped(mapping=settings_mapping, settings=settings)
    switches = flow_switches(settings_schema=settings_schema, settings=settings)
    flows = []
    for doc in sorted(snapshot["flows"], key=lambda flow: flow["_id"]):
        wanted = mapped.for_flow(doc["_id"])
        flows.append(
            FlowSpec(
                source_id=doc["_id"],
                name=doc.get("name", ""),
                disabled=not switches.get(doc["_id"], True),
                schedule=wanted.get("schedule"),
                timezone=(
                    timezone_for_schedule(wanted=wanted.get("timezone"), flow=doc.get("timezone"))
                    if "schedule" in wanted
                    else wanted.get("timezone", doc.get("timezone"))
                ),
                settings=deep_merge(doc.get("settings") or {}, wanted.get("settings") or {}),
                step_source_ids=tuple(step_id for _, step_id in flow_step_ids(doc)),
            )
        )
    steps = [
        StepSpec(
            source_id=doc["_id"],
            kind=kind,
            name=doc.get("name", ""),
            connection_id=(
                connection_map.get(doc["_connectionId"], doc["_connectionId"])
                if doc.get("_connectionId")
                else None
            ),
            fields=_with_mapped(managed_fields(doc), mapped.step_fields.get(doc["_id"], {})),
        )
        for kind, collection in (("export", "exports"), ("import", "imports"))
        for doc in sorted(snapshot.get(collection) or [], key=lambda step: step["_id"])
    ]
    integration = snapshot.get("integration") or {}
    return DesiredState(
        template_key=template_key,
        version=version,
        source_integration_id=source_integration_id,
        tag=tag,
        name=name,
        settings=deep_merge(
            settings_without_marker(integration.get("settings") or {}),
            mapped.integration_settings,
        ),
        flows=tuple(flows),
        steps=tuple(steps),
        connection_map=dict(connection_map),
    )
