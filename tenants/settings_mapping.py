"""Where a template version's settings land in a tenant's integration.

A template lists, in `settings_mapping`, where each of its settings goes:

    settings_mapping:
      - setting: sync_interval_minutes      # a dotted path into the tenant's settings
        to: flow_schedule                   # every flow's schedule, as an interval in minutes
        flows: ["5eed00000000000000000f01"] # optional: only these template flows
      - setting: timezone
        to: flow_timezone                   # every flow's timezone (an IANA name)
      - setting: erp_subsidiary
        to: integration_settings
        path: erpSubsidiary                 # a dotted path into the integration's settings
      - setting: store_id
        to: flow_settings
        path: storeId                       # into each flow's own `settings`
        flows: ["5eed00000000000000000f01"]
      - setting: order_statuses
        to: step                            # a field of an export or import
        step: "5eed00000000000000000e01"    # its id in the template integration
        pointer: /http/relativeURI          # a JSON pointer (RFC 6901) to a field it has
        format: "/orders?status={}"         # optional; a list is joined with commas

A template without a mapping keeps the first behaviour of this service: the whole of the
tenant's settings is merged into the integration's settings. Which flows run is said by the
settings schema itself (`x-source-flow-id`, see provisioning.flow_switches).

Plain Python: the template services validate a mapping when a version is published, and the
provisioning steps evaluate it for a tenant.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

TARGETS = ("integration_settings", "flow_schedule", "flow_timezone", "flow_settings", "step")
ALL_FLOWS = "*"
DEFAULT_TIMEZONE = "UTC"

# Assumption (docs/integrator-io.md, Flows): a flow's `schedule` is a 6-field cron whose
# first field is `?`, then minute, hour, day of month, month and day of week, as in the
# documented "? 0 2 ? * *" (every day at 02:00). An interval is written as the largest one
# cron can say exactly that is not longer than asked: minutes that divide an hour, hours
# that divide a day, or once a day.
SCHEDULE_INTERVALS = (5, 6, 10, 12, 15, 20, 30, 60, 120, 180, 240, 360, 480, 720, 1440)


def schedule_settings(*, mapping: list[dict]) -> set[str]:
    """The settings (dotted paths) that set the flows' schedule."""
    return {entry["setting"] for entry in mapping or [] if entry.get("to") == "flow_schedule"}


def schedule_interval_errors(
    *, mapping: list[dict], settings: dict, prefix: str = "settings"
) -> dict[str, list[str]]:
    """{dotted path: [problem]} for each setting mapped to a flow schedule whose value is not
    an interval a schedule says exactly: written as is, the flows would run at another
    interval than the one the tenant shows (45 would run every 30 minutes)."""
    errors: dict[str, list[str]] = {}
    for setting in sorted(schedule_settings(mapping=mapping)):
        value = _at(settings, setting)
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        if value not in SCHEDULE_INTERVALS:
            errors[f"{prefix}.{setting}"] = [
                f"Flows cannot run every {value:g} minutes. Choose one of "
                f"{', '.join(map(str, SCHEDULE_INTERVALS[:-1]))} or {SCHEDULE_INTERVALS[-1]} "
                "(minutes that divide an hour, hours that divide a day, or once a day)."
            ]
    return errors


def schedule_intervals(schema: dict) -> tuple[int, ...]:
    """The intervals a schedule says exactly that a schedule setting's own schema (its
    `minimum`, `maximum` and any `enum`) allows: the values the setting really takes."""
    low, high = schema.get("minimum", 0), schema.get("maximum", SCHEDULE_INTERVALS[-1])
    listed = schema.get("enum")
    return tuple(
        minutes
        for minutes in SCHEDULE_INTERVALS
        if low <= minutes <= high and (not isinstance(listed, list) or minutes in listed)
    )


def settings_schema_as_validated(*, settings_schema: dict, mapping: list[dict]) -> dict:
    """`settings_schema` as settings are validated against it: each setting that sets the
    flows' schedule lists, as its `enum`, the intervals it takes (schedule_intervals). A
    host app builds its form, or checks a value, from the schema it is shown; an integer of
    5 to 1440 alone let it offer 25, which schedule_interval_errors then refuses. A copy:
    the template's own document stays as it was published."""
    shown = copy.deepcopy(settings_schema)
    for setting in schedule_settings(mapping=mapping):
        schema = _schema_at(shown, setting)
        if schema is not None:
            schema["enum"] = list(schedule_intervals(schema))
    return shown


def schedule_every(minutes: int) -> str:
    """The 6-field cron for "every `minutes` minutes" (at most as long: see above)."""
    exact = max(m for m in SCHEDULE_INTERVALS if m <= max(minutes, SCHEDULE_INTERVALS[0]))
    if exact < 60:
        return f"? */{exact} * * * *"
    if exact == 60:
        return "? 0 * * * *"
    if exact < 1440:
        return f"? 0 */{exact // 60} * * *"
    return "? 0 0 * * *"


@dataclass(frozen=True)
class MappedSettings:
    """A tenant's settings as they land in its integration. Flows are named by their
    template flow id (`_sourceId` of the clone), or ALL_FLOWS."""

    integration_settings: dict[str, Any]
    flow_schedules: dict[str, str] = field(default_factory=dict)
    flow_timezones: dict[str, str] = field(default_factory=dict)
    flow_settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    # {template export or import id: {JSON pointer: value}}
    step_fields: dict[str, dict[str, Any]] = field(default_factory=dict)

    def for_flow(self, source_id: str | None) -> dict[str, Any]:
        """{"schedule", "timezone", "settings"} wanted for the flow cloned from `source_id`,
        only the ones the mapping sets."""
        wanted: dict[str, Any] = {}
        for name, values in (
            ("schedule", self.flow_schedules),
            ("timezone", self.flow_timezones),
            ("settings", self.flow_settings),
        ):
            if source_id in values:
                wanted[name] = values[source_id]
            elif ALL_FLOWS in values:
                wanted[name] = values[ALL_FLOWS]
        return wanted


def timezone_for_schedule(*, wanted: str | None, flow: str | None) -> str:
    """The timezone of a scheduled flow: the mapped one, else the flow's own (a clone keeps
    the template flow's), else UTC."""
    return wanted or flow or DEFAULT_TIMEZONE


def settings_mapped(*, mapping: list[dict], settings: dict) -> MappedSettings:
    """Where `settings` (a tenant's effective settings) land, by `mapping` (already valid)."""
    if not mapping:
        return MappedSettings(integration_settings=dict(settings))
    mapped = MappedSettings(integration_settings={})
    for entry in mapping:
        value = _at(settings, entry["setting"])
        if value is _MISSING:
            continue
        flows = entry.get("flows") or [ALL_FLOWS]
        target = entry["to"]
        if target == "integration_settings":
            _put(mapped.integration_settings, entry["path"], value)
        elif target == "flow_schedule":
            for flow in flows:
                mapped.flow_schedules[flow] = schedule_every(int(value))
        elif target == "flow_timezone":
            for flow in flows:
                mapped.flow_timezones[flow] = str(value)
        elif target == "flow_settings":
            for flow in flows:
                _put(mapped.flow_settings.setdefault(flow, {}), entry["path"], value)
        elif target == "step":
            placed = _formatted(value, entry.get("format"))
            mapped.step_fields.setdefault(entry["step"], {})[entry["pointer"]] = placed
    return mapped


def pointer_set(document: dict, pointer: str, value: Any) -> bool:
    """Set the field at a JSON pointer (RFC 6901) of `document` in place, if it is there;
    whether it was (a pointer into nothing changes nothing)."""
    *parents, last = pointer_parts(pointer)
    target: Any = document
    for part in parents:
        if isinstance(target, dict) and part in target:
            target = target[part]
        elif isinstance(target, list) and part.isdigit() and int(part) < len(target):
            target = target[int(part)]
        else:
            return False
    if isinstance(target, dict) and last in target:
        target[last] = value
        return True
    if isinstance(target, list) and last.isdigit() and int(last) < len(target):
        target[int(last)] = value
        return True
    return False


def pointer_parts(pointer: str) -> list[str]:
    return [part.replace("~1", "/").replace("~0", "~") for part in pointer.split("/")[1:]]


def _formatted(value: Any, template: str | None) -> Any:
    if template is None:
        return value
    text = ",".join(map(str, value)) if isinstance(value, list) else str(value)
    return template.replace("{}", text)


def settings_mapping_errors(*, mapping: Any, settings_schema: dict) -> dict[str, list[str]]:
    """{"settings_mapping.<n>.<field>": [problem]} for every problem, {} when usable."""
    if not isinstance(mapping, list):
        return {"settings_mapping": ["Must be a list of entries."]}
    errors: dict[str, list[str]] = {}
    for n, entry in enumerate(mapping):
        where = f"settings_mapping.{n}"
        if not isinstance(entry, dict):
            errors[where] = ["Must be an object with `setting` and `to`."]
            continue
        unknown = set(entry) - {"setting", "to", "path", "flows", "step", "pointer", "format"}
        if unknown:
            errors[where] = [f"Unknown fields: {', '.join(sorted(unknown))}."]
        setting, target = entry.get("setting"), entry.get("to")
        schema = _schema_at(settings_schema, setting) if isinstance(setting, str) else None
        if schema is None:
            errors[f"{where}.setting"] = ["Must name a property of the settings schema."]
        if target not in TARGETS:
            errors[f"{where}.to"] = [f"Must be one of {', '.join(TARGETS)}."]
        needs_path = target in ("integration_settings", "flow_settings")
        path = entry.get("path")
        if needs_path and not (isinstance(path, str) and _dotted(path)):
            errors[f"{where}.path"] = ["Must be a dotted path such as `orders.status`."]
        if not needs_path and path is not None:
            errors[f"{where}.path"] = ["Only for integration_settings and flow_settings."]
        flows = entry.get("flows")
        if flows is not None and (
            target == "integration_settings"
            or not isinstance(flows, list)
            or not flows
            or not all(isinstance(flow, str) and flow for flow in flows)
        ):
            errors[f"{where}.flows"] = ["A non-empty list of template flow ids, for flow targets."]
        errors.update(_step_entry_errors(entry, where, is_step=target == "step"))
        if target == "flow_schedule" and schema is not None and not _whole_minutes(schema):
            errors[f"{where}.setting"] = [
                "A schedule comes from an integer setting (minutes) with a minimum of at least 1."
            ]
    return errors


_MISSING = object()
# Fields of an export or import that name other resources or belong to the server: a
# setting cannot land there.
_UNMAPPABLE_STEP_FIELDS = ("_id", "_connectionId", "_integrationId", "_sourceId")


def _step_entry_errors(entry: dict, where: str, *, is_step: bool) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not is_step:
        for name in ("step", "pointer", "format"):
            if name in entry:
                errors[f"{where}.{name}"] = ["Only for the step target."]
        return errors
    if not (isinstance(entry.get("step"), str) and entry["step"]):
        errors[f"{where}.step"] = ["The id of an export or import of the template integration."]
    pointer = entry.get("pointer")
    if not (isinstance(pointer, str) and pointer.startswith("/") and len(pointer) > 1):
        errors[f"{where}.pointer"] = ["A JSON pointer such as `/http/relativeURI`."]
    elif pointer_parts(pointer)[0] in _UNMAPPABLE_STEP_FIELDS:
        errors[f"{where}.pointer"] = ["A setting cannot change which resources a step uses."]
    template = entry.get("format")
    if template is not None and not (isinstance(template, str) and template.count("{}") == 1):
        errors[f"{where}.format"] = ["A text with one `{}` where the value goes."]
    if "flows" in entry:
        errors[f"{where}.flows"] = ["Not for the step target: a step is named by `step`."]
    return errors


def _dotted(path: str) -> bool:
    return all(part for part in path.split("."))


def _at(settings: Any, path: str) -> Any:
    for name in path.split("."):
        if not isinstance(settings, dict) or name not in settings:
            return _MISSING
        settings = settings[name]
    return settings


def _put(target: dict, path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for name in parents:
        target = target.setdefault(name, {})
    target[last] = value


def _schema_at(schema: Any, path: str) -> dict | None:
    if not _dotted(path):
        return None
    for name in path.split("."):
        properties = schema.get("properties") if isinstance(schema, dict) else None
        if not isinstance(properties, dict) or not isinstance(properties.get(name), dict):
            return None
        schema = properties[name]
    return schema


def _whole_minutes(schema: dict) -> bool:
    minimum = schema.get("minimum")
    return schema.get("type") == "integer" and isinstance(minimum, int) and minimum >= 1
