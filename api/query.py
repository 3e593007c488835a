"""Query parameters, read strictly: an operation names the parameters it takes, and anything
else is refused with a 400 that names it (`fields`), as unknown body fields are. A typo
(`?flow_id=` for `?flow=`) must not quietly return everything.

A filter's value is validated as it was sent (a whole number as digits only), and a parameter
may be given once. No parameter of the API takes an empty value (no status, cursor, search or
page size is empty), so `?status=` or `?cursor=` is refused here, for every operation alike,
rather than read as "not given" (DRF's reading of an empty cursor or optional field), which
would hide the client's bug.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from functools import cache

from rest_framework import serializers

from api.serializers import untrimmed

PAGINATION_PARAMETERS = ("cursor", "limit")
_DIGITS = re.compile(r"^[0-9]+$")


@cache
def _filter_names(filters: type[serializers.Serializer]) -> tuple[str, ...]:
    return tuple(filters().fields)


def parameter_names(spec: type[serializers.Serializer] | Collection[str]) -> tuple[str, ...]:
    """The names a view's `query_parameters` entry stands for (a filter serializer's fields)."""
    if isinstance(spec, type) and issubclass(spec, serializers.Serializer):
        return _filter_names(spec)
    return tuple(spec)


def query_parameters_check(query_params, known: Collection[str]) -> None:
    """ValidationError naming each parameter that is not in `known`, is given twice or is
    empty."""
    problems: dict[str, list[str]] = {}
    takes = ", ".join(known) if known else "none"
    for name in sorted(set(query_params)):
        if name not in known:
            problems[name] = [f"Unknown query parameter; this operation takes: {takes}."]
        elif len(query_params.getlist(name)) > 1:
            problems[name] = ["Given more than once; give it once."]
        elif query_params[name] == "":
            problems[name] = ["Empty; give a value, or leave the parameter out."]
    if problems:
        raise serializers.ValidationError(problems)


def query_filters(request, filters: type[serializers.Serializer]) -> dict:
    """The validated values of the filters in the query string (ValidationError if one is
    not valid). Values are checked as sent: DRF reads an empty value of an optional field in
    a QueryDict as "not given", which would make `?status=` a filter that is ignored."""
    values = request.query_params.dict()
    data = filters(data=values)
    untrimmed(data.fields.values())
    not_digits = {
        name: [_whole_number_message(field)]
        for name, field in data.fields.items()
        if isinstance(field, serializers.IntegerField)
        and name in values
        and not _DIGITS.match(values[name])
    }
    if not_digits:
        # Digits only, as `limit` is: DRF reads an integer with Python's int() after dropping
        # a trailing ".0", so " 7", "+7", "1_0", "7.0" and non-ASCII digits would pass.
        raise serializers.ValidationError(not_digits)
    data.is_valid(raise_exception=True)
    return data.validated_data


def _whole_number_message(field: serializers.IntegerField) -> str:
    if field.min_value is not None and field.max_value is not None:
        return f"A whole number from {field.min_value} to {field.max_value}."
    return "A whole number."


class QueryDateTimeField(serializers.DateTimeField):
    """A time in a query string. Its offset's `+`, sent as typed, arrives as a space (the
    query string's encoding of one): say so rather than that the format is wrong."""

    def to_internal_value(self, value):
        if isinstance(value, str) and re.search(r"\d \d{2}:?\d{2}$", value):
            raise serializers.ValidationError(
                "The time's offset arrived with a space where its `+` was: in a query string "
                "a `+` stands for a space, so send it as `%2B` (`…T10:00:00%2B01:00`), or "
                "give the time in UTC with `Z`."
            )
        return super().to_internal_value(value)
