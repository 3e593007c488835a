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

A template without a mapping keeps the first behaviour of this service: the whole of the
tenant's settings is merged into the integration's settings. Which flows run is said by the
settings schema itself (`x-source-flow-id`, see provisioning.flow_switches).

Plain Python: the template services validate a mapping when a version is published, and the
provisioning steps evaluate it for a tenant.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

TARGETS = ("integration_settings", "flow_schedule", "flow_timezone", "flow_settings")
ALL_FLOWS = "*"
DEFAULT_TIMEZONE = "UTC"

# Assumption (docs/integrator-io.md, Flows): a flow's `schedule` is a 6-field cron whose
# first field is `?`, then minute, hour, day of month, month and day of week, as in the
# documented "? 0 2 ? * *" (every day at 02:00). An interval is written as the largest one
# cron can say exactly that is not longer than asked: minutes that divide an hour, hours
# that divide a day, or once a day.
_EXACT_INTERVALS = (5, 6, 10, 12, 15, 20, 30, 60, 120, 180, 240, 360, 480, 720, 1440)


def schedule_every(minutes: int) -> str:
    """The 6-field cron for "every `minutes` minutes" (at most as long: see above)."""
    exact = max(m for m in _EXACT_INTERVALS if m <= max(minutes, _EXACT_INTERVALS[0]))
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
        if "schedule" in wanted and "timezone" not in wanted:
            wanted["timezone"] = DEFAULT_TIMEZONE
        return wanted


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
    return mapped


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
        unknown = set(entry) - {"setting", "to", "path", "flows"}
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
        if target == "flow_schedule" and schema is not None and not _whole_minutes(schema):
            errors[f"{where}.setting"] = [
                "A schedule comes from an integer setting (minutes) with a minimum of at least 1."
            ]
    return errors


_MISSING = object()


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
