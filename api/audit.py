"""The audit log for the host app and its operators (/api/v1/audit-events).

`GET /api/v1/audit-events` lists events newest first, a page at a time, with the usual strict
filters; `GET /api/v1/audit-events.csv` takes the same filters and streams every matching event
as CSV (a spreadsheet, an archive before the retention prune), newest first. Both are read
only: nothing in the API changes or deletes an event.
"""

import csv
import json

from django.http import StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import renderers, serializers

from api.pagination import NewestFirstCursorPagination
from api.query import QueryDateTimeField, query_filters
from api.renderers import JsonRenderer
from api.scopes import Scope
from api.views import ApiView
from audit.models import ActorType
from audit.selectors import audit_event_list

_TAGS = ["audit"]  # described in SPECTACULAR_SETTINGS["TAGS"]


class AuditEventFilters(serializers.Serializer):
    actor_type = serializers.ChoiceField(
        choices=ActorType.choices,
        required=False,
        # An unknown value is answered with the values taken, as the other lists' filters do.
        error_messages={
            "invalid_choice": f"Not an actor type; one of {', '.join(ActorType.values)}."
        },
    )
    actor = serializers.CharField(
        max_length=200,
        required=False,
        help_text="The actor's id or name, exactly: an API key's prefix or name, a username, "
        "a connect link's id, a task's or command's name.",
    )
    action = serializers.RegexField(
        r"^[a-z_]+\.([a-z_]+)?$",
        max_length=64,
        required=False,
        help_text="An action (`tenant.update`), or every action on a target type (`tenant.`).",
        error_messages={
            "invalid": "An action (`tenant.update`), or a target type and a dot (`tenant.`)."
        },
    )
    target_type = serializers.RegexField(
        r"^[a-z_]+$",
        max_length=40,
        required=False,
        error_messages={
            "invalid": "A target type in lowercase letters and underscores (`tenant`)."
        },
    )
    target_id = serializers.CharField(max_length=200, required=False)
    tenant = serializers.CharField(
        max_length=128, required=False, help_text="A tenant's external_id."
    )
    request_id = serializers.RegexField(
        r"^[A-Za-z0-9._-]{1,64}$",
        required=False,
        help_text="The X-Request-ID of the request that made the changes (on the service's "
        "log lines as `req=`): everything one request changed.",
        error_messages={"invalid": "A request id: up to 64 letters, digits, dots, dashes, _."},
    )
    since = QueryDateTimeField(required=False, help_text="Events at or after this time (ISO 8601).")
    until = QueryDateTimeField(required=False, help_text="Events before this time.")

    def validate(self, attrs):
        since, until = attrs.get("since"), attrs.get("until")
        # Equal bounds are an empty range, not an error; reversed ones are a mistake.
        if since is not None and until is not None and since > until:
            raise serializers.ValidationError({"until": ["Must not be earlier than `since`."]})
        return attrs


class AuditEventOutput(serializers.Serializer):
    id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    actor_type = serializers.ChoiceField(choices=ActorType.choices)
    actor_id = serializers.CharField(
        help_text="An API key's prefix, a user's id, a connect link's id, a task's or a "
        "command's name."
    )
    actor_name = serializers.CharField(
        help_text="An API key's name, a username, the tenant of a connect link, the OS user "
        "who ran a command."
    )
    action = serializers.CharField()
    target_type = serializers.CharField()
    target_id = serializers.CharField()
    tenant = serializers.CharField(help_text="The tenant's external_id, when one is concerned.")
    changes = serializers.DictField(
        help_text='`{field: {"before": …, "after": …}}` for each field that changed; secrets '
        "are shown as `[REDACTED]`."
    )
    request_id = serializers.CharField(help_text="The X-Request-ID of the request, if any.")


def _events(request):
    filters = query_filters(request, AuditEventFilters)
    return audit_event_list(**filters)


class AuditEventListApi(ApiView):
    required_scopes = {"get": Scope.AUDIT_READ}
    pagination_class = NewestFirstCursorPagination
    query_parameters = {"get": AuditEventFilters}

    @extend_schema(
        operation_id="audit_events_list",
        summary="List audit events",
        parameters=[AuditEventFilters],
        responses=AuditEventOutput(many=True),
        examples=[
            OpenApiExample(
                "A settings change",
                value={
                    "id": 812,
                    "created_at": "2026-11-29T18:02:11.204Z",
                    "actor_type": "api_key",
                    "actor_id": "Xb3kq9Lm",
                    "actor_name": "host app",
                    "action": "tenant.update",
                    "target_type": "tenant",
                    "target_id": "5d0c1f3e-0c57-4a38-9f0e-2c3f4f1f9a11",
                    "tenant": "acme",
                    "changes": {
                        "settings": {"before": {"region": "eu"}, "after": {"region": "us"}}
                    },
                    "request_id": "4f9c2a7d1e0b4c3a9e8d7f6a5b4c3d2e",
                },
                response_only=True,
            )
        ],
        tags=_TAGS,
    )
    def get(self, request):
        """Every recorded change, newest first: who (an API key, an admin user, an end
        customer through a connect link, a management command, or the system and which of
        its tasks), what (action and target), the fields that changed (secrets masked), when,
        and the request's id. Kept for AUDIT_RETENTION_DAYS."""
        events = _events(request)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(events, request, view=self)
        return paginator.get_paginated_response(AuditEventOutput(page, many=True).data)


class CsvRenderer(renderers.BaseRenderer):
    """Lets `Accept: text/csv` through content negotiation; the view streams the body
    itself, and errors are JSON whatever was asked (`handle_exception`)."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


CSV_COLUMNS = (
    "id",
    "created_at",
    "actor_type",
    "actor_id",
    "actor_name",
    "action",
    "target_type",
    "target_id",
    "tenant",
    "changes",
    "request_id",
)
# A cell starting with one of these is a formula to a spreadsheet: quoted with an apostrophe,
# so that opening an export never runs what a tenant's name or a setting smuggled in.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    def write(self, value: str) -> str:
        return value


def _cell(value) -> str:
    text = value if isinstance(value, str) else str(value)
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def _csv_rows(events):
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    for event in events.iterator(chunk_size=1000):
        yield writer.writerow(
            [
                event.id,
                event.created_at.isoformat(),
                event.actor_type,
                _cell(event.actor_id),
                _cell(event.actor_name),
                event.action,
                event.target_type,
                _cell(event.target_id),
                _cell(event.tenant),
                _cell(json.dumps(event.changes, sort_keys=True, ensure_ascii=False)),
                _cell(event.request_id),
            ]
        )


class AuditEventCsvApi(ApiView):
    required_scopes = {"get": Scope.AUDIT_READ}
    renderer_classes = [JsonRenderer, CsvRenderer]
    query_parameters = {"get": AuditEventFilters}

    @extend_schema(
        operation_id="audit_events_export_csv",
        summary="Export audit events as CSV",
        parameters=[AuditEventFilters],
        responses={
            (200, "text/csv"): OpenApiResponse(
                response=OpenApiTypes.STR,
                description="One header row, then one row per event, newest first: "
                + ", ".join(CSV_COLUMNS)
                + ". `changes` is the JSON object of the list operation. Cells that a "
                "spreadsheet would read as a formula start with an apostrophe.",
            )
        },
        tags=_TAGS,
    )
    def get(self, request):
        """Every event matching the filters (those of the list), as CSV, streamed: no
        pagination. Narrow it with `since` and `until` for large logs."""
        events = _events(request)
        response = StreamingHttpResponse(_csv_rows(events), content_type="text/csv; charset=utf-8")
        stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
        response["Content-Disposition"] = f'attachment; filename="audit-events-{stamp}.csv"'
        return response

    def handle_exception(self, exc):
        # Errors keep the API's JSON envelope, even for a caller that asked for CSV.
        self.request.accepted_renderer = JsonRenderer()
        self.request.accepted_media_type = "application/json"
        return super().handle_exception(exc)
