"""Reading integrator.io documents the same way for a version's snapshot and for a tenant's
integration: which steps a flow runs, which fields of a step a version manages, and where
the applied-version marker lives. Plain Python.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Fields of an export or import that the server sets, that a clone gives anew, or that name
# other resources: a version does not manage them (the connection is compared on its own).
SERVER_FIELDS = frozenset(
    {
        "_id",
        "_connectionId",
        "_integrationId",
        "_sourceId",
        "_flowId",
        "apiIdentifier",
        "createdAt",
        "lastModified",
        "lastModifiedBy",
        "lastExecutedAt",
        "sandbox",
    }
)

# Assumption (docs/integrator-io.md): the "version applied" marker is kept in the
# integration's own settings, under a key of ours that templates do not use. The settings are
# free-form JSON that integrator.io stores as given; the integration's `version` field is the
# template integration's (a clone copies it), so it cannot say what was applied.
MARKER_KEY = "_embedded"
MARKER_VERSION = "templateVersion"


def flow_step_ids(flow: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(kind, id) of each step of a flow document, in order: page generators, then page
    processors (those of routers' branches included)."""
    steps = [
        ("export", generator["_exportId"])
        for generator in flow.get("pageGenerators") or []
        if isinstance(generator, dict) and generator.get("_exportId")
    ]
    processors = list(flow.get("pageProcessors") or [])
    for router in flow.get("routers") or []:
        for branch in (router or {}).get("branches") or []:
            processors.extend((branch or {}).get("pageProcessors") or [])
    for processor in processors:
        if not isinstance(processor, dict):
            continue
        if processor.get("_exportId"):
            steps.append(("export", processor["_exportId"]))
        elif processor.get("_importId"):
            steps.append(("import", processor["_importId"]))
    return steps


def managed_fields(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of an export or import that a version manages."""
    return {name: value for name, value in doc.items() if name not in SERVER_FIELDS}


def settings_without_marker(settings: Mapping[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in settings.items() if name != MARKER_KEY}


def marker_of(settings: Mapping[str, Any]) -> str | None:
    marker = settings.get(MARKER_KEY)
    version = marker.get(MARKER_VERSION) if isinstance(marker, Mapping) else None
    return version if isinstance(version, str) else None


def settings_with_marker(settings: Mapping[str, Any], version: str | None) -> dict[str, Any]:
    written = settings_without_marker(settings)
    if version is not None:
        written[MARKER_KEY] = {MARKER_VERSION: version}
    return written
