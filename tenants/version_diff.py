"""What changed between two published versions of a template: a pure function of their content.

Flows, exports and imports are matched by `_id`: the template integration evolves in place,
so its ids are the same in every version's snapshot (and are the `_sourceId` of each tenant's
copies). A resource is reported by id and name with the paths of the fields that changed,
never their values: a snapshot's secrets are masked already, and a path shows none either.

Plain Python (no Django): the API and the admin call it with what the versions hold.
"""

from __future__ import annotations

import json
from typing import Any

RESOURCES = ("flows", "exports", "imports")
# Fields integrator.io changes by itself: a version did not change them.
_VOLATILE_FIELDS = frozenset({"createdAt", "lastModified", "lastExecutedAt"})


def version_diff(*, before: dict, after: dict) -> dict:
    """The changes from `before` to `after`, each {"settings_schema", "settings_mapping",
    "snapshot"} as a TemplateVersion holds them:

        {"snapshots": true,   # both have a snapshot: resources were compared
         "flows": {"added": [{"_id", "name"}], "removed": [...],
                   "changed": [{"_id", "name", "fields": ["http.relativeURI", ...]}]},
         "exports": {...}, "imports": {...},
         "settings_schema": {"added": ["flows.refunds"], "removed": [], "changed": []},
         "settings_mapping": {"added": [<entry>], "removed": [<entry>]}}

    Without both snapshots the resource lists are empty and `snapshots` is false."""
    compared = bool(before.get("snapshot")) and bool(after.get("snapshot"))
    diff: dict[str, Any] = {"snapshots": compared}
    for part in RESOURCES:
        old = (before.get("snapshot") or {}).get(part) or [] if compared else []
        new = (after.get("snapshot") or {}).get(part) or [] if compared else []
        diff[part] = resources_diff(old, new)
    diff["settings_schema"] = schema_properties_diff(
        before.get("settings_schema") or {}, after.get("settings_schema") or {}
    )
    diff["settings_mapping"] = mapping_diff(
        before.get("settings_mapping") or [], after.get("settings_mapping") or []
    )
    return diff


def resources_diff(before: list[dict], after: list[dict]) -> dict[str, list[dict]]:
    old = {doc.get("_id"): doc for doc in before}
    new = {doc.get("_id"): doc for doc in after}
    changed = []
    for resource_id in sorted(old.keys() & new.keys(), key=str):
        fields = changed_paths(old[resource_id], new[resource_id])
        if fields:
            changed.append({**_brief(new[resource_id]), "fields": fields})
    return {
        "added": [_brief(new[i]) for i in sorted(new.keys() - old.keys(), key=str)],
        "removed": [_brief(old[i]) for i in sorted(old.keys() - new.keys(), key=str)],
        "changed": changed,
    }


def _brief(doc: dict) -> dict:
    return {"_id": doc.get("_id"), "name": doc.get("name", "")}


def changed_paths(before: Any, after: Any, path: str = "") -> list[str]:
    """Dotted paths of the fields that differ, sorted. Objects are compared field by field;
    a list is one field (its order matters to integrator.io: page processors run in order)."""
    if isinstance(before, dict) and isinstance(after, dict):
        paths: list[str] = []
        for key in sorted(before.keys() | after.keys(), key=str):
            if not path and key in _VOLATILE_FIELDS:
                continue
            where = f"{path}.{key}" if path else str(key)
            if key not in before or key not in after:
                paths.append(where)
            else:
                paths += changed_paths(before[key], after[key], where)
        return paths
    return [] if before == after else [path or "."]


def schema_properties_diff(before: dict, after: dict) -> dict[str, list[str]]:
    """Settings (dotted, as in the mapping: `flows.refunds`) added, removed, or whose own
    schema changed (a type, a default, a bound; not the settings under it)."""
    old, new = _properties(before), _properties(after)
    return {
        "added": sorted(new.keys() - old.keys()),
        "removed": sorted(old.keys() - new.keys()),
        "changed": sorted(key for key in old.keys() & new.keys() if old[key] != new[key]),
    }


def _properties(schema: Any, prefix: str = "") -> dict[str, dict]:
    found: dict[str, dict] = {}
    properties = schema.get("properties") if isinstance(schema, dict) else None
    if not isinstance(properties, dict):
        return found
    for name, child in properties.items():
        path = f"{prefix}{name}"
        if isinstance(child, dict):
            found[path] = {key: value for key, value in child.items() if key != "properties"}
            found.update(_properties(child, f"{path}."))
    return found


def mapping_diff(before: list, after: list) -> dict[str, list]:
    """Mapping entries added and removed (an edited entry is one of each), in their order."""
    old = {_canonical(entry) for entry in before}
    new = {_canonical(entry) for entry in after}
    return {
        "added": [entry for entry in after if _canonical(entry) not in old],
        "removed": [entry for entry in before if _canonical(entry) not in new],
    }


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))
