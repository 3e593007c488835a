"""The lookups the emulated API makes often enough to keep an index for (see Store)."""

from sandbox.models.flow_rules import flow_steps


def _integration(doc: dict) -> list[str]:
    return [doc["_integrationId"]] if doc.get("_integrationId") else []


def _connection(doc: dict) -> list[str]:
    return [doc["_connectionId"]] if doc.get("_connectionId") else []


def _step_resources(flow: dict) -> list[str]:
    try:
        return [resource_id for _, resource_id in flow_steps(flow)]
    except (KeyError, TypeError, AttributeError):
        return []  # a flow stored before validation caught it: found by a full scan only


STORE_INDEXES = {
    "connections": {"integration": _integration},
    "flows": {"integration": _integration, "step": _step_resources},
    "exports": {"integration": _integration, "connection": _connection},
    "imports": {"integration": _integration, "connection": _connection},
}
