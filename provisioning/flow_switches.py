"""Which flows of a tenant's clone run, as its settings say.

The convention (the one place it is read): a property anywhere in the template's
`settings_schema` may name the template flow it switches with
`"x-source-flow-id": "<template flow id>"`. The tenant's effective settings at that path are
either a boolean (the flow is enabled) or an object whose `enabled` says so:

    "flows": {"type": "object", "properties": {
        "orders": {"type": "boolean", "default": true,
                   "x-source-flow-id": "5eed00000000000000000f01"}}}

A cloned flow is matched to its template flow by `_sourceId`. A flow that no property names,
or whose setting is absent, is enabled (enabled by default).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

FLOW_KEYWORD = "x-source-flow-id"
_MISSING = object()


def flow_switches(*, settings_schema: dict, settings: dict) -> dict[str, bool]:
    """{template flow id: enabled} for every flow the schema names."""
    switches = {}
    for path, flow_id in _flow_properties(settings_schema, ()):
        value = _at(settings, path)
        if isinstance(value, dict):
            value = value.get("enabled", True)
        switches[flow_id] = value is not False
    return switches


def flows_disabled_wanted(
    *, flows: Iterable[dict], settings_schema: dict, settings: dict
) -> dict[str, bool]:
    """{cloned flow id: the `disabled` value it should have}.

    `flows` are {"id", "source_id", ...} summaries of the clone's flows.
    """
    switches = flow_switches(settings_schema=settings_schema, settings=settings)
    return {flow["id"]: not switches.get(flow.get("source_id") or "", True) for flow in flows}


def _flow_properties(schema: object, path: tuple[str, ...]) -> Iterator[tuple[tuple, str]]:
    if not isinstance(schema, dict):
        return
    if path and isinstance(schema.get(FLOW_KEYWORD), str):
        yield path, schema[FLOW_KEYWORD]
    properties = schema.get("properties")
    if isinstance(properties, dict):
        for name, subschema in properties.items():
            yield from _flow_properties(subschema, (*path, name))


def _at(settings: object, path: tuple[str, ...]) -> object:
    for name in path:
        if not isinstance(settings, dict) or name not in settings:
            return _MISSING
        settings = settings[name]
    return settings
