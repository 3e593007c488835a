"""The snapshot of a template integration taken when a version is published.

One template integration in integrator.io evolves over time; each published version keeps
what it held at publishing, so that a tenant can be moved to exactly that content later
(the reconcile engine builds a tenant's desired state from `TemplateVersion.snapshot`). A
tenant's flows, exports and imports are matched to the snapshot's by `_sourceId`: the
template's ids, which stay the same from one version to the next.

The format, which the reconcile engine relies on:

    {"integration": {"_id", "name", "settings"},
     "flows": [<flow as integrator.io returns it>, ...],      # sorted by _id
     "exports": [<export as read>, ...], "imports": [<import as read>, ...],
     "taken_at": "<ISO 8601>"}
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from django.utils import timezone

from integrator.client import IntegratorClient
from integrator.quirks import MASKED_SECRET
from integrator.redaction import is_secret_field
from integrator.resources import Export, Flow, Import, Integration
from tenants.settings_mapping import pointer_set

# integrator.io masks the secrets it returns (docs/integrator-io.md, Transport); a snapshot is
# kept for years and shown in the API and admin, so anything else under a name that looks like
# a secret is masked too. Names are compared without case, "_" or "-" (apiKey = api_key).
_SECRET_ENDINGS = (
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "apikey",
    "privatekey",
    "credentials",
)
# Whole objects of secrets (an HTTP connection's `encrypted`): nothing in them is shown.
_SECRET_CONTAINERS = frozenset({"encrypted"})


def is_secret_name(name: str) -> bool:
    folded = name.lower().replace("_", "").replace("-", "")
    return is_secret_field(name) or folded.endswith(_SECRET_ENDINGS)


def secrets_masked(value: Any, *, name: str = "") -> Any:
    """A copy of `value` where every value under a secret-looking name is "******".

    Only values are masked, not structure: {"token": {"location": "header"}} keeps its
    location (an object under a secret name is searched, not dropped), while {"token": "abc"}
    and {"password": 42} become "******". Booleans, null and "" say nothing secret."""
    if name and name.lower() in _SECRET_CONTAINERS and value not in (None, {}, [], ""):
        return MASKED_SECRET
    if isinstance(value, dict):
        return {key: secrets_masked(item, name=str(key)) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [secrets_masked(item) for item in value]
    if name and is_secret_name(name) and _revealing(value):
        return MASKED_SECRET
    return value


def _revealing(value: Any) -> bool:
    if isinstance(value, bool) or value is None:
        return False
    return value != "" and value != MASKED_SECRET


def _by_id(docs: list[dict]) -> list[dict]:
    return sorted((secrets_masked(doc) for doc in docs), key=lambda doc: str(doc.get("_id")))


def template_snapshot_take(*, client: IntegratorClient, source_integration_id: str) -> dict:
    """Read the template integration and its flows, exports and imports (four calls, plus
    pages) and return them in the snapshot format above, secrets masked.

    Raises the client's errors (integrator.NotFoundError when the integration is missing)."""
    reads = template_snapshot_reads(source_integration_id)
    return template_snapshot_from(*(read(client) for read in reads))


def template_snapshot_reads(source_integration_id: str) -> list[Callable[[IntegratorClient], Any]]:
    """The four reads a snapshot is made of, each a function of the client, in the order
    `template_snapshot_from` takes their answers. None depends on another: a caller may make
    them side by side."""
    return [
        lambda client: client.get_integration(source_integration_id),
        lambda client: client.list_integration_flows(source_integration_id),
        lambda client: client.list_integration_exports(source_integration_id),
        lambda client: client.list_integration_imports(source_integration_id),
    ]


def template_snapshot_from(
    integration: Integration, flows: list[Flow], exports: list[Export], imports: list[Import]
) -> dict:
    """The snapshot of what the four reads of `template_snapshot_reads` answered."""
    return {
        "integration": secrets_masked(
            {"_id": integration.id, "name": integration.name, "settings": integration.settings}
        ),
        "flows": _by_id([flow.raw for flow in flows]),
        "exports": _by_id([export.raw for export in exports]),
        "imports": _by_id([imported.raw for imported in imports]),
        "taken_at": timezone.now().isoformat(),
    }


def snapshot_counts(snapshot: dict) -> dict[str, int]:
    """{"flows": n, "exports": n, "imports": n} of a snapshot ({} of each when there is none)."""
    return {part: len(snapshot.get(part) or []) for part in ("flows", "exports", "imports")}


def snapshot_errors(
    *, snapshot: Any, source_integration_id: str, slots: list, settings_schema: dict, mapping: list
) -> dict[str, list[str]]:
    """{"<path>": [problem]} for every part of a version that its snapshot contradicts.

    Every flow the version names (a switch's `x-source-flow-id`, a mapping entry's `flows`)
    must be a flow of the snapshot, and every slot's `template_connection_id` a connection
    some export or import of the snapshot uses: a tenant's clone is matched to the template
    by these ids, so a name the template does not have would match nothing."""
    if not _snapshot_shaped(snapshot):
        return {"snapshot": ["Must have integration, flows, exports, imports and taken_at."]}
    errors: dict[str, list[str]] = {}
    integration_id = snapshot["integration"].get("_id")
    if integration_id != source_integration_id:
        errors["source_integration_id"] = [
            f"The snapshot is of the integration {integration_id!r}, not of this one."
        ]
    flow_ids = {flow.get("_id") for flow in snapshot["flows"]}
    for path, flow_id in _schema_flow_ids(settings_schema, "settings_schema"):
        if flow_id not in flow_ids:
            errors.setdefault(path, []).append(
                f"{flow_id!r} is not a flow of the template integration."
            )
    for index, entry in enumerate(mapping):
        flows = entry.get("flows") if isinstance(entry, dict) else None
        for flow_id in flows or []:
            if flow_id != "*" and flow_id not in flow_ids:
                errors.setdefault(f"settings_mapping.{index}.flows", []).append(
                    f"{flow_id!r} is not a flow of the template integration."
                )
    steps = {step.get("_id"): step for step in [*snapshot["exports"], *snapshot["imports"]]}
    for index, entry in enumerate(mapping):
        if not isinstance(entry, dict) or entry.get("to") != "step":
            continue
        step = steps.get(entry.get("step"))
        if step is None:
            errors.setdefault(f"settings_mapping.{index}.step", []).append(
                f"{entry.get('step')!r} is not an export or import of the template integration."
            )
        elif not pointer_set(copy.deepcopy(step), entry["pointer"], None):
            errors.setdefault(f"settings_mapping.{index}.pointer", []).append(
                f"{entry['pointer']!r} points at nothing in {step.get('name') or step['_id']!r}."
            )
    connections = {
        step.get("_connectionId") for step in [*snapshot["exports"], *snapshot["imports"]]
    }
    for index, slot in enumerate(slots):
        if slot["template_connection_id"] not in connections:
            errors.setdefault(f"slots.{index}.template_connection_id", []).append(
                f"No export or import of the template integration uses the connection "
                f"{slot['template_connection_id']!r}."
            )
    return errors


def _snapshot_shaped(snapshot: Any) -> bool:
    return (
        isinstance(snapshot, dict)
        and isinstance(snapshot.get("integration"), dict)
        and all(isinstance(snapshot.get(part), list) for part in ("flows", "exports", "imports"))
        and isinstance(snapshot.get("taken_at"), str)
    )


def _schema_flow_ids(schema: Any, path: str) -> list[tuple[str, str]]:
    """(path, flow id) of every `x-source-flow-id` in a settings schema, at any depth."""
    found: list[tuple[str, str]] = []
    if isinstance(schema, dict):
        flow_id = schema.get("x-source-flow-id")
        if flow_id is not None:
            found.append((f"{path}.x-source-flow-id", flow_id))
        for key, value in schema.items():
            found += _schema_flow_ids(value, f"{path}.{key}")
    elif isinstance(schema, list):
        for index, value in enumerate(schema):
            found += _schema_flow_ids(value, f"{path}.{index}")
    return found
