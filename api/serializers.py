"""Serializer building blocks shared by the API's input serializers."""

import json

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.http_urls import HTTP_URL_MAX_LENGTH, HTTP_URL_PATTERN, http_url_problem

# PostgreSQL cannot store these in text or jsonb, and they are never meaningful input.
_FORBIDDEN_CHARACTERS = ("\x00",)
MAX_JSON_DEPTH = 20


# The JSON type each kind of field takes, as the OpenAPI document declares it. DRF would turn
# 0 into "0" for a CharField and "false" into False for a BooleanField: a request the document
# calls invalid would then do something.
_JSON_TYPES: list[tuple[type, tuple[type, ...], str]] = [
    (serializers.BooleanField, (bool,), "a boolean"),
    (serializers.IntegerField, (int,), "an integer"),
    (serializers.FloatField, (int, float), "a number"),
    (serializers.CharField, (str,), "a string"),
    (serializers.ChoiceField, (str,), "a string"),
    (serializers.ListField, (list,), "an array"),
]


def _json_type_problem(field: serializers.Field, value) -> str | None:
    if value is None:
        return None  # DRF answers for null itself (allow_null)
    if isinstance(field, serializers.IntegerField) and isinstance(value, float):
        # JSON Schema's integers include 30.0 (a number with no fraction), as does DRF.
        return None if value.is_integer() else "Expected an integer."
    for field_class, types, name in _JSON_TYPES:
        if isinstance(field, field_class):
            if isinstance(value, bool) and bool not in types:
                return f"Expected {name}."
            if not isinstance(value, types):
                return f"Expected {name}."
            if isinstance(field, serializers.ListField):
                for index, item in enumerate(value):
                    problem = _json_type_problem(field.child, item)
                    if problem:
                        return f"Item {index}: {problem}"
            return None
    return None


def untrimmed(fields) -> None:
    """Strings are validated as they were sent: DRF trims them first, which would accept what
    the document refuses (" acme" against a pattern, 201 characters of which one is a space
    against a maxLength of 200)."""
    for field in fields:
        while isinstance(field, serializers.ListField):
            field = field.child
        if isinstance(field, serializers.CharField):
            field.trim_whitespace = False


class InputSerializer(serializers.Serializer):
    """Refuses fields it does not know, so that a typo is an error rather than a no-op, and
    values of another JSON type than the field's (no "0" for 0, no "true" for true). Strings
    are not trimmed (see `untrimmed`)."""

    # Fields the resource has but no request may change, each with why and what to do
    # instead (formatted with the serializer's context): "not allowed", as for a misspelt
    # field, left a client to guess that the change is impossible rather than misspelt.
    fixed_fields: dict[str, str] = {}

    def get_fields(self):
        fields = super().get_fields()
        untrimmed(fields.values())
        return fields

    def _field_not_allowed(self, name) -> str:
        fixed = self.fixed_fields.get(str(name))
        return fixed.format(**self.context) if fixed else "This field is not allowed."

    def to_internal_value(self, data):
        problems = {}
        if isinstance(data, dict):
            problems = {
                str(name): [self._field_not_allowed(name)]
                for name in sorted(set(data) - set(self.fields), key=str)
            }
            for name, field in self.fields.items():
                problem = _json_type_problem(field, data.get(name)) if name in data else None
                if problem:
                    problems[name] = [problem]
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as error:
            if problems and isinstance(error.detail, dict):
                error.detail.update(problems)
            raise
        if problems:
            raise serializers.ValidationError(problems)
        return value


def _json_problem(value, depth: int = 0) -> str | None:
    if depth > MAX_JSON_DEPTH:
        return f"is nested deeper than {MAX_JSON_DEPTH} levels."
    if isinstance(value, str):
        if any(char in value for char in _FORBIDDEN_CHARACTERS):
            return "contains a NUL character."
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "contains an unpaired surrogate character."
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            problem = _json_problem(key, depth + 1) or _json_problem(item, depth + 1)
            if problem:
                return problem
    elif isinstance(value, list):
        for item in value:
            problem = _json_problem(item, depth + 1)
            if problem:
                return problem
    return None


class UniqueListField(serializers.ListField):
    """A list that names each item once. A duplicate is the client's mistake (a list built
    twice, a merge gone wrong), refused naming the field rather than quietly merged, so that
    what is stored is what was sent. The document says so (`uniqueItems`, api.schema)."""

    default_error_messages = {"duplicate": "{item} is given more than once; give each item once."}

    def to_internal_value(self, data):
        values = super().to_internal_value(data)
        seen: list = []
        for value in values:
            if value in seen:
                self.fail("duplicate", item=json.dumps(value, ensure_ascii=False))
            seen.append(value)
        return values


@extend_schema_field(
    {
        "type": "string",
        "pattern": HTTP_URL_PATTERN,
        "maxLength": HTTP_URL_MAX_LENGTH,
        "description": "An absolute http or https URL.",
    }
)
class HttpUrlField(serializers.CharField):
    """An absolute http(s) URL: exactly what HTTP_URL_PATTERN (core.http_urls) matches,
    which the document carries."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", HTTP_URL_MAX_LENGTH)
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)
        self.validators.append(http_url_check)


def http_url_check(value: str) -> None:
    """Refuse what HTTP_URL_PATTERN does not match, in core.http_urls' words (the admin's
    form says the same)."""
    problem = http_url_problem(value)
    if problem is not None:
        raise serializers.ValidationError(problem)


@extend_schema_field({"type": "object", "additionalProperties": True})
class JsonObjectField(serializers.JSONField):
    """A JSON object that PostgreSQL's jsonb (and SQLite) can store as it was sent."""

    default_error_messages = {"not_an_object": "Expected a JSON object."}

    def to_internal_value(self, data):
        data = super().to_internal_value(data)
        if not isinstance(data, dict):
            self.fail("not_an_object")
        problem = _json_problem(data)
        if problem:
            raise serializers.ValidationError(f"The value {problem}")
        return data
