"""Serializer building blocks shared by the API's input serializers."""

import json
import re

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

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

    def get_fields(self):
        fields = super().get_fields()
        untrimmed(fields.values())
        return fields

    def to_internal_value(self, data):
        problems = {}
        if isinstance(data, dict):
            problems = {
                str(name): ["This field is not allowed."]
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


# An absolute http(s) URL: a host name or IPv4 address, an optional port, then a path, query
# or fragment in the characters URLs use. The document carries this pattern, and it is exactly
# what is accepted: Django's URLValidator takes another set, which no client could check
# against. Kept simple on purpose (no IP literals, no user info), which also keeps generating
# values for it cheap. The host is dot-separated labels of 1 to 63 characters that neither
# start nor end with a hyphen (a trailing dot allowed), the port 1 to 65535: a URL outside them
# can never be reached (the HTTP client that calls it cannot even parse some), and a webhook
# sent there would only be retried until dead-lettered.
_HOST_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PORT = r"(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3})"
HTTP_URL_PATTERN = (
    rf"^https?://{_HOST_LABEL}(?:\.{_HOST_LABEL})*\.?(?::{_PORT})?"
    r"(?:[/?#][A-Za-z0-9._~!$&'()*+,;=:@%/?#-]*)?$"
)
HTTP_URL_MAX_LENGTH = 2000


@extend_schema_field(
    {
        "type": "string",
        "pattern": HTTP_URL_PATTERN,
        "maxLength": HTTP_URL_MAX_LENGTH,
        "description": "An absolute http or https URL.",
    }
)
class HttpUrlField(serializers.CharField):
    """An absolute http(s) URL (see HTTP_URL_PATTERN)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", HTTP_URL_MAX_LENGTH)
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)
        self.validators.append(http_url_check)


# \Z rather than the pattern's $, which Python also matches before a final newline.
_HTTP_URL_RE = re.compile(HTTP_URL_PATTERN.removesuffix("$") + r"\Z")


def http_url_check(value: str) -> None:
    """Refuse what HTTP_URL_PATTERN does not match, saying what is wrong where the pattern
    leaves it out on purpose (user info, an IP literal), so the caller can fix it."""
    if _HTTP_URL_RE.match(value):
        return
    scheme, separator, rest = value.partition("://")
    if separator and scheme in ("http", "https"):
        authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
        if "@" in authority:
            raise serializers.ValidationError(
                "Enter the URL without a user name or password (`user:password@`): they would "
                "be kept and shown in clear."
            )
        if authority.startswith("["):
            raise serializers.ValidationError(
                "Enter a host name or an IPv4 address: an IPv6 address in brackets is not taken."
            )
        port = re.fullmatch(r"[^:]*:([0-9]+)", authority)
        if port and not 1 <= int(port[1]) <= 65535:
            raise serializers.ValidationError(
                f"Enter a port from 1 to 65535 (not {int(port[1])}), or none."
            )
        host = authority.partition(":")[0]
        if any(not 1 <= len(label) <= 63 for label in host.removesuffix(".").split(".")):
            raise serializers.ValidationError(
                "Enter a host name whose parts between dots are 1 to 63 characters each."
            )
    raise serializers.ValidationError("Enter an absolute http or https URL.")


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
