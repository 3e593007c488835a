"""What a template version lets the customer change on their integration page (the portal).

A template document may declare, under `portal`:

    portal:
      settings: [sync_interval_minutes, order_statuses]   # customer-editable settings
      flows: [flows.stock]                                # flow switches the customer may use

- `settings` names top-level properties of the settings schema whose value the page can
  edit as a form field: a string (with or without `enum`), an integer, a number, a boolean,
  or an array of enum strings (a group of checkboxes). Flow switches are not settings here.
- `flows` names settings that switch a flow (`x-source-flow-id`, see
  provisioning.flow_switches), by their dotted path; each must be a boolean.

Everything not named stays the host's: the portal shows it nowhere and refuses it when posted.
An empty or missing declaration lets the customer change nothing (the safe default).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tenants.errors import FlowNotToggleable, SettingNotEditable, TemplateInvalid
from tenants.settings_mapping import schedule_intervals, schedule_settings

FLOW_KEYWORD = "x-source-flow-id"
_SCALAR_TYPES = ("string", "integer", "number", "boolean")
PORTAL_DOCUMENT_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "settings": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
        "flows": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
    },
}


@dataclass(frozen=True)
class EditableSetting:
    name: str
    schema: dict
    # Minutes the setting may take, when it sets the flows' schedule: only intervals a
    # schedule says exactly (tenants.settings_mapping), within the schema's bounds.
    intervals: tuple[int, ...] = ()

    @property
    def kind(self) -> str:
        """`interval`, `enum`, `boolean`, `integer`, `number`, `string` or `multi_enum`."""
        if self.intervals:
            return "interval"
        kind = self.schema.get("type")
        if kind == "array":
            return "multi_enum"
        if "enum" in self.schema:
            return "enum"
        return kind


@dataclass(frozen=True)
class ToggleableFlow:
    path: str  # the switch setting's dotted path, e.g. "flows.stock"
    source_id: str  # the template flow it switches
    title: str


def portal_errors(*, portal: Any, settings_schema: dict) -> dict[str, list[str]]:
    """{path: [messages]} for what is wrong with a `portal` declaration."""
    fields: dict[str, list[str]] = {}
    if portal in (None, {}):
        return fields
    if not isinstance(portal, dict) or set(portal) - {"settings", "flows"}:
        return {"portal": ["Must be an object with `settings` and/or `flows` (lists of names)."]}
    properties = settings_schema.get("properties") or {}
    for index, name in enumerate(portal.get("settings") or []):
        path = f"portal.settings.{index}"
        schema = properties.get(name) if isinstance(name, str) else None
        if not isinstance(schema, dict):
            fields[path] = [f"{name!r} is not a top-level setting of the settings schema."]
        elif _switches_a_flow(schema):
            fields[path] = [f"{name!r} switches flows: list its switches under portal.flows."]
        elif _setting_kind(schema) is None:
            fields[path] = [
                f"{name!r} cannot be edited in a form: only strings, integers, numbers, "
                "booleans and arrays of enum strings can."
            ]
    for index, flow_path in enumerate(portal.get("flows") or []):
        path = f"portal.flows.{index}"
        schema = _schema_at(settings_schema, flow_path) if isinstance(flow_path, str) else None
        if not isinstance(schema, dict) or not isinstance(schema.get(FLOW_KEYWORD), str):
            fields[path] = [
                f"{flow_path!r} is not a setting that switches a flow ({FLOW_KEYWORD})."
            ]
        elif schema.get("type") != "boolean":
            fields[path] = [f"{flow_path!r} must be a boolean to be switched from the portal."]
    return fields


def portal_validate(*, portal: Any, settings_schema: dict) -> None:
    fields = portal_errors(portal=portal, settings_schema=settings_schema)
    if fields:
        raise TemplateInvalid("The template's portal declaration is not valid.", fields=fields)


def editable_settings(*, version) -> list[EditableSetting]:
    """The customer-editable settings of a template version, in the declaration's order."""
    properties = (version.settings_schema or {}).get("properties") or {}
    declared = (version.portal or {}).get("settings") or []
    schedules = schedule_settings(mapping=version.settings_mapping)
    return [
        EditableSetting(
            name=name,
            schema=properties[name],
            intervals=schedule_intervals(properties[name]) if name in schedules else (),
        )
        for name in declared
        if name in properties
    ]


def toggleable_flows(*, version) -> list[ToggleableFlow]:
    """The flow switches a customer may use, in the declaration's order."""
    found = []
    for flow_path in (version.portal or {}).get("flows") or []:
        schema = _schema_at(version.settings_schema or {}, flow_path) or {}
        if isinstance(schema.get(FLOW_KEYWORD), str):
            found.append(
                ToggleableFlow(
                    path=flow_path,
                    source_id=schema[FLOW_KEYWORD],
                    title=schema.get("title") or flow_path,
                )
            )
    return found


def _setting_kind(schema: dict) -> str | None:
    kind = schema.get("type")
    if kind in _SCALAR_TYPES:
        return kind
    items = schema.get("items")
    if kind == "array" and isinstance(items, dict) and isinstance(items.get("enum"), list):
        return "array"
    return None


def _switches_a_flow(schema: dict) -> bool:
    if isinstance(schema.get(FLOW_KEYWORD), str):
        return True
    return any(
        isinstance(sub, dict) and _switches_a_flow(sub)
        for sub in (schema.get("properties") or {}).values()
    )


def _schema_at(schema: dict, dotted: str) -> dict | None:
    for name in dotted.split("."):
        properties = schema.get("properties") if isinstance(schema, dict) else None
        if not isinstance(properties, dict) or not isinstance(properties.get(name), dict):
            return None
        schema = properties[name]
    return schema


def customer_settings_patch(*, version, values: dict, effective: dict) -> dict:
    """The merge patch that sets the customer's `values` ({setting name: value}), with only
    the settings that change. Raises SettingNotEditable naming each setting the version does
    not let the customer change; the values themselves are checked by the settings service."""
    editable = {setting.name for setting in editable_settings(version=version)}
    refused = sorted(name for name in values if name not in editable)
    if refused:
        raise SettingNotEditable(
            "These settings cannot be changed here.",
            fields={
                f"settings.{name}": ["This setting cannot be changed here."] for name in refused
            },
        )
    return {name: value for name, value in values.items() if effective.get(name) != value}


def customer_flow_patch(*, version, flow_path: str, enabled: bool) -> dict:
    """The merge patch that switches the flow at `flow_path` on or off; raises
    FlowNotToggleable unless the version lets the customer switch it."""
    if flow_path not in {flow.path for flow in toggleable_flows(version=version)}:
        raise FlowNotToggleable(
            "This flow cannot be switched on or off here.",
            fields={"flow": ["This flow cannot be switched on or off here."]},
        )
    patch: dict = {}
    target = patch
    *parents, last = flow_path.split(".")
    for name in parents:
        target = target.setdefault(name, {})
    target[last] = bool(enabled)
    return patch
