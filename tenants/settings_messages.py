"""What a settings value breaks, in plain words, from a JSON Schema validation error.

jsonschema's own messages quote the value as Python writes it ("True is not of type
'integer'", "['paid', 'paid'] has non-unique elements"): neither the host app's developers nor
its customers write Python. Each keyword a template's settings schema can use gets a sentence
of its own, the schema's bounds filled in as numbers; the keywords that only combine others
(`anyOf`, `not`, `if`, ...) get one general sentence.

The sentences are translated: the integration page shows them to the end customer in the
link's language; the API, which activates no language, gets English.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.utils.formats import number_format
from django.utils.translation import gettext, ngettext
from jsonschema.exceptions import ValidationError

_TYPES = {
    "integer": lambda: gettext("Must be a whole number."),
    "number": lambda: gettext("Must be a number."),
    "string": lambda: gettext("Must be text."),
    "boolean": lambda: gettext("Must be true or false."),
    "array": lambda: gettext("Must be a list of values."),
    "object": lambda: gettext("Must be a group of settings."),
    "null": lambda: gettext("Must be empty."),
}

_FORMATS = {
    "email": lambda: gettext("Must be an email address."),
    "uri": lambda: gettext("Must be a full web address (https://...)."),
    "date": lambda: gettext("Must be a date (YYYY-MM-DD)."),
    "date-time": lambda: gettext("Must be a date and time."),
    "time": lambda: gettext("Must be a time of day."),
}


def schema_error_message(error: ValidationError) -> str:
    """The sentence for one validation error (its `validator` is the keyword it broke)."""
    keyword, limit, instance = error.validator, error.validator_value, error.instance
    if keyword == "type":
        kinds = limit if isinstance(limit, list) else [limit]
        if len(kinds) == 1 and kinds[0] in _TYPES:
            return _TYPES[kinds[0]]()
        return gettext("This kind of value is not accepted here.")
    if keyword in ("enum", "const"):
        # The values themselves: the host app's developer writes one in code, and "the
        # offered choices" named none (the integration page offers only these anyway).
        choices = limit if keyword == "enum" and isinstance(limit, list) else [limit]
        return gettext("Must be one of: %(choices)s.") % {"choices": _choices(choices)}
    if keyword in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"):
        return _bound_message(keyword, limit)
    if keyword in ("minLength", "maxLength", "minItems", "maxItems"):
        return _count_message(keyword, limit)
    if keyword == "uniqueItems":
        return gettext("Each value may be chosen once.")
    if keyword == "pattern":
        # A pattern means nothing to a customer, and alone told a developer nothing of the
        # form either: an example of it does.
        example = pattern_example(error.schema if isinstance(error.schema, dict) else {})
        if example is not None:
            return gettext("Is not in the expected form, for example “%(example)s”.") % {
                "example": example
            }
        return gettext("Is not in the expected form.")
    if keyword == "format":
        known = _FORMATS.get(limit)
        return known() if known else gettext("Is not in the expected form.")
    if keyword == "required":
        missing = _names(name for name in limit if _missing(instance, name))
        return gettext("Required settings are missing: %(names)s.") % {"names": missing}
    if keyword in ("additionalProperties", "unevaluatedProperties"):
        unknown = _names(_unknown_keys(error))
        if unknown:
            return gettext("Not a setting this integration has: %(names)s.") % {"names": unknown}
        return gettext("Holds a setting this integration does not have.")
    if keyword in ("minProperties", "maxProperties", "dependentRequired", "propertyNames"):
        return gettext("Does not hold the settings this group needs.")
    return gettext("This value is not accepted here.")


def _bound_message(keyword: str, limit: Any) -> str:
    number = _number(limit)
    if keyword == "minimum":
        return gettext("Must be at least %(limit)s.") % {"limit": number}
    if keyword == "maximum":
        return gettext("Must be at most %(limit)s.") % {"limit": number}
    if keyword == "exclusiveMinimum":
        return gettext("Must be more than %(limit)s.") % {"limit": number}
    if keyword == "exclusiveMaximum":
        return gettext("Must be less than %(limit)s.") % {"limit": number}
    return gettext("Must be a multiple of %(limit)s.") % {"limit": number}


def _count_message(keyword: str, limit: Any) -> str:
    count = limit if isinstance(limit, int) else 0
    shown = {"count": _number(count)}
    if keyword == "minLength":
        return (
            ngettext(
                "Must be at least %(count)s character long.",
                "Must be at least %(count)s characters long.",
                count,
            )
            % shown
        )
    if keyword == "maxLength":
        return (
            ngettext(
                "Must be at most %(count)s character long.",
                "Must be at most %(count)s characters long.",
                count,
            )
            % shown
        )
    if keyword == "minItems":
        return (
            ngettext("Choose at least %(count)s value.", "Choose at least %(count)s values.", count)
            % shown
        )
    return (
        ngettext("Choose at most %(count)s value.", "Choose at most %(count)s values.", count)
        % shown
    )


def pattern_example(schema: dict) -> str | None:
    """What a value of a setting with a `pattern` looks like: the schema's first `examples`
    value that fits, else its `default` if that fits; none rather than one that would teach
    the wrong form."""
    examples = schema.get("examples")
    candidates = [*(examples if isinstance(examples, list) else []), schema.get("default")]
    return next((value for value in candidates if _fits(schema, value)), None)


def _fits(schema: dict, value: object) -> bool:
    if not isinstance(value, str) or not value:
        return False
    if len(value) < int(schema.get("minLength") or 0):
        return False
    if schema.get("maxLength") is not None and len(value) > int(schema["maxLength"]):
        return False
    # JSON Schema's `pattern` matches anywhere in the value, as re.search does.
    return re.search(schema["pattern"], value) is not None


def _choices(values: list) -> str:
    """A schema's values as JSON writes them, text unquoted: `sales_order, invoice, true, 5`."""
    return ", ".join(v if isinstance(v, str) else json.dumps(v) for v in values)


def _number(value: Any) -> str:
    """A schema's bound as the page's language writes numbers (5, 0.5 / 0,5; 1440 as is)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return number_format(value) if isinstance(value, int | float) else str(value)


def _missing(instance: Any, name: str) -> bool:
    return isinstance(instance, dict) and name not in instance


def _unknown_keys(error: ValidationError) -> list[str]:
    """The keys of the object that neither `properties` nor `patternProperties` name."""
    if not isinstance(error.instance, dict) or not isinstance(error.schema, dict):
        return []
    named = error.schema.get("properties") or {}
    patterns = error.schema.get("patternProperties") or {}
    return sorted(
        key
        for key in error.instance
        if key not in named and not any(re.search(p, key) for p in patterns)
    )


def _names(names) -> str:
    return ", ".join(str(name) for name in names)
