"""Serializer building blocks shared by the API's input serializers."""

from rest_framework import serializers

# PostgreSQL cannot store these in text or jsonb, and they are never meaningful input.
_FORBIDDEN_CHARACTERS = ("\x00",)
MAX_JSON_DEPTH = 20


class InputSerializer(serializers.Serializer):
    """Refuses fields it does not know, so that a typo is an error rather than a no-op."""

    def to_internal_value(self, data):
        unknown = {}
        if isinstance(data, dict):
            unknown = {
                str(name): ["This field is not allowed."]
                for name in sorted(set(data) - set(self.fields), key=str)
            }
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as error:
            if unknown and isinstance(error.detail, dict):
                error.detail.update(unknown)
            raise
        if unknown:
            raise serializers.ValidationError(unknown)
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
