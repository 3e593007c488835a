"""Every JSON Schema keyword a template's settings can use is told in plain words: no value
written as Python writes it, no quoted schema keyword."""

import pytest
from django.utils import translation

from tenants.services.settings import settings_errors

SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["store_id"],
    "properties": {
        "store_id": {"type": "string", "pattern": "^[a-z]+$", "minLength": 2, "maxLength": 8},
        "interval": {"type": "integer", "minimum": 5, "maximum": 1440, "multipleOf": 5},
        "ratio": {"type": "number", "exclusiveMinimum": 0.5, "exclusiveMaximum": 2},
        "enabled": {"type": "boolean"},
        "kind": {"enum": ["sales_order", "invoice"]},
        "statuses": {
            "type": "array",
            "items": {"enum": ["paid", "shipped"]},
            "uniqueItems": True,
            "minItems": 1,
            "maxItems": 1,
        },
        "group": {"type": "object", "properties": {"a": {"type": "string"}}},
        "note": {"type": ["string", "null"]},
        "code": {"type": "string", "pattern": "^[A-Z]+-[0-9]+$", "examples": ["ab", "AB-12"]},
    },
}


@pytest.mark.parametrize(
    ("settings", "path", "message"),
    [
        ({"interval": True}, "settings.interval", "Must be a whole number."),
        ({"interval": "15"}, "settings.interval", "Must be a whole number."),
        ({"interval": 0}, "settings.interval", "Must be at least 5."),
        ({"interval": 2000}, "settings.interval", "Must be at most 1440."),
        ({"interval": 12}, "settings.interval", "Must be a multiple of 5."),
        ({"ratio": 0.5}, "settings.ratio", "Must be more than 0.5."),
        ({"ratio": 2}, "settings.ratio", "Must be less than 2."),
        ({"ratio": "x"}, "settings.ratio", "Must be a number."),
        ({"enabled": "yes"}, "settings.enabled", "Must be true or false."),
        ({"store_id": 7}, "settings.store_id", "Must be text."),
        ({"store_id": "A B"}, "settings.store_id", "Is not in the expected form."),
        (
            {"code": "x"},
            "settings.code",
            "Is not in the expected form, for example “AB-12”.",
        ),
        ({"store_id": "a"}, "settings.store_id", "Must be at least 2 characters long."),
        ({"store_id": "abcdefghij"}, "settings.store_id", "Must be at most 8 characters long."),
        ({"kind": "quote"}, "settings.kind", "Must be one of: sales_order, invoice."),
        ({"statuses": "paid"}, "settings.statuses", "Must be a list of values."),
        ({"statuses": ["lost"]}, "settings.statuses.0", "Must be one of: paid, shipped."),
        ({"statuses": []}, "settings.statuses", "Choose at least 1 value."),
        ({"statuses": ["paid", "shipped"]}, "settings.statuses", "Choose at most 1 value."),
        ({"group": []}, "settings.group", "Must be a group of settings."),
        ({"note": 3}, "settings.note", "This kind of value is not accepted here."),
        (
            {"colour": "red", "abc": 1},
            "settings",
            "Not a setting this integration has: abc, colour.",
        ),
    ],
)
def test_each_keyword_is_told_in_plain_words(settings, path, message):
    errors = settings_errors(schema=SCHEMA, settings={"store_id": "acme", **settings})

    assert errors == {path: [message]}


def test_repeated_values_are_told_once():
    errors = settings_errors(
        schema=SCHEMA, settings={"store_id": "acme", "statuses": ["paid", "paid"]}
    )

    assert errors == {
        "settings.statuses": ["Each value may be chosen once.", "Choose at most 1 value."]
    }


def test_a_missing_setting_is_named():
    assert settings_errors(schema=SCHEMA, settings={}) == {
        "settings": ["Required settings are missing: store_id."]
    }


def test_the_messages_speak_the_active_language():
    with translation.override("de"):
        errors = settings_errors(schema=SCHEMA, settings={"store_id": "acme", "ratio": 0.25})

    assert errors == {"settings.ratio": ["Muss größer als 0,5 sein."]}
