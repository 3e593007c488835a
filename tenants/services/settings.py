"""Tenant settings: the template's JSON Schema gives the defaults and the rules; a tenant
stores only its own overrides, and every write is validated on the merged result."""

from __future__ import annotations

import copy
from typing import Any

from jsonschema import Draft202012Validator

from tenants.errors import SettingsInvalid
from tenants.models import IntegrationTemplate, TemplateVersion, Tenant
from tenants.settings_mapping import schedule_interval_errors
from tenants.settings_messages import schema_error_message

_MISSING = object()
# A message may name unknown keys; a long list of them would swamp it.
_MAX_MESSAGE = 300


def schema_defaults(schema: dict) -> dict:
    """Every `default` in the schema, nested objects included, as one settings document."""
    found = _defaults(schema)
    return found if isinstance(found, dict) else {}


def _defaults(schema: Any) -> Any:
    if not isinstance(schema, dict):
        return _MISSING
    explicit = copy.deepcopy(schema["default"]) if "default" in schema else _MISSING
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return explicit
    result = explicit if isinstance(explicit, dict) else {}
    for name, subschema in properties.items():
        value = _defaults(subschema)
        if value is _MISSING:
            continue
        if isinstance(value, dict) and isinstance(result.get(name), dict):
            result[name] = deep_merge(value, result[name])
        else:
            result.setdefault(name, value)
    if not result and explicit is _MISSING:
        return _MISSING
    return result


def deep_merge(base: dict, override: dict) -> dict:
    """`override` on top of `base`: objects merge key by key, anything else replaces."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def merge_patch(target: dict, patch: dict) -> dict:
    """RFC 7386 JSON Merge Patch: objects merge, `null` removes a key, the rest replaces.

    This is what a partial settings update means: keys that were not sent keep their value,
    and `null` hands a key back to the template's default.
    """
    result = copy.deepcopy(target)
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            current = result.get(key)
            result[key] = merge_patch(current if isinstance(current, dict) else {}, value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def settings_without_nulls(settings: dict) -> dict:
    """Registration's overrides with every null left out, as a merge patch onto no overrides
    would leave them (`merge_patch`): null is "the template's default" in a registration as
    in an update. A group that held only nulls goes too."""
    result = {}
    for key, value in settings.items():
        if value is None:
            continue
        if isinstance(value, dict):
            inner = settings_without_nulls(value)
            if value and not inner:
                continue
            value = inner
        result[key] = value
    return result


def settings_errors(*, schema: dict, settings: dict, prefix: str = "settings") -> dict:
    """{dotted path: [messages]} for everything in `settings` that breaks `schema`, in plain
    words (tenants.settings_messages; in the active language), each message once per path."""
    fields: dict[str, list[str]] = {}
    validator = Draft202012Validator(schema)
    for error in sorted(validator.iter_errors(settings), key=lambda e: list(e.absolute_path)):
        path = ".".join([prefix, *(str(part) for part in error.absolute_path)])
        message = schema_error_message(error)
        if len(message) > _MAX_MESSAGE:
            message = message[: _MAX_MESSAGE - 3] + "..."
        messages = fields.setdefault(path, [])
        if message not in messages:
            messages.append(message)
    return fields


def settings_as_typed(*, schema: Any, settings: Any) -> Any:
    """`settings` with every whole number sent as a float (31.0) where the schema wants an
    integer made an int (31). JSON Schema counts 31.0 as an integer, so it validates, but
    stored as sent it reaches integrator.io as 31.0 and compares equal to 31, so that sending
    31 later changes nothing."""
    if not isinstance(schema, dict):
        return settings
    kinds = schema.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    if "integer" in kinds and isinstance(settings, float) and settings.is_integer():
        return int(settings)
    if isinstance(settings, dict):
        properties = schema.get("properties")
        properties = properties if isinstance(properties, dict) else {}
        return {
            name: settings_as_typed(schema=properties.get(name), settings=value)
            for name, value in settings.items()
        }
    if isinstance(settings, list):
        return [settings_as_typed(schema=schema.get("items"), settings=item) for item in settings]
    return settings


def settings_schedule_check(
    *, version: TemplateVersion, settings: dict, before: dict | None = None
) -> None:
    """SettingsInvalid if a setting that sets the flows' schedule is written with an interval
    no schedule can say (tenants.settings_mapping.schedule_interval_errors). A value the
    tenant already had (`before`, its effective settings) is let through: it was written
    before this check, and refusing it would block every other change."""
    errors = schedule_interval_errors(mapping=version.settings_mapping, settings=settings)
    if before is not None:
        unchanged = schedule_interval_errors(mapping=version.settings_mapping, settings=before)
        errors = {
            path: problems for path, problems in errors.items() if unchanged.get(path) != problems
        }
    if errors:
        raise SettingsInvalid("The settings do not match the template's schema.", fields=errors)


def settings_effective(*, template: IntegrationTemplate | TemplateVersion, overrides: dict) -> dict:
    """The defaults of the template (or of a tenant's version) with `overrides` merged in,
    validated; raises SettingsInvalid."""
    effective = deep_merge(schema_defaults(template.settings_schema), overrides)
    fields = settings_errors(schema=template.settings_schema, settings=effective)
    if fields:
        raise SettingsInvalid("The settings do not match the template's schema.", fields=fields)
    return effective


def tenant_effective_settings(*, tenant: Tenant) -> dict:
    """The settings the tenant's integration runs with."""
    return settings_effective(template=tenant.template_version, overrides=tenant.settings)
