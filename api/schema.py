"""OpenAPI (drf-spectacular): what each operation says of itself, the API key as a bearer
token, the error shape on every operation, the Idempotency-Key header on every write, and the
headers of every webhook request."""

import inspect

from drf_spectacular.extensions import (
    OpenApiAuthenticationExtension,
    OpenApiSerializerExtension,
    OpenApiSerializerFieldExtension,
)
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import get_lib_doc_excludes
from drf_spectacular.utils import OpenApiResponse

from api import idempotency
from api.scopes import ANY_SCOPE, Scope, scope_required

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "example": "invalid_fields"},
                "message": {"type": "string"},
                "fields": {
                    "type": "object",
                    "description": "Dotted path of a request field (or the name of a query "
                    "parameter) to its messages.",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                },
                "remote": {
                    "type": "object",
                    "description": "What integrator.io, or the app it called for us, answered, "
                    "when that explains the error (secrets removed). `status` is its HTTP "
                    "status, null when no answer came.",
                    "required": ["status", "message"],
                    "properties": {
                        "status": {"type": ["integer", "null"]},
                        "message": {"type": "string"},
                    },
                },
            },
        }
    },
}
_ALWAYS = {
    "400": "Malformed request or invalid parameters.",
    "401": "Missing, wrong, revoked or expired API key.",
    "403": "The API key may not do this (`insufficient_scope`: it lacks the scope the "
    "operation names).",
    "404": "Unknown id.",
    "406": "The Accept header asks for something other than JSON.",
    "500": "The server failed; the request may be retried.",
    "503": "A dependency is unavailable for a moment (`service_unavailable`: the database; "
    "`integrator_unavailable`: integrator.io, where the operation calls it; "
    "`integrator_token_refused`: integrator.io refused this service's own token; "
    "`integrator_outcome_unknown`: integrator.io did not confirm saving a connection, and "
    "nothing was recorded). Retry after `Retry-After` seconds.",
}
_IN_PROGRESS = (
    "`idempotency_request_in_progress`: a request with the same Idempotency-Key is still "
    "running (retry after `Retry-After`)."
)
_REUSED = "`idempotency_key_reused`: the Idempotency-Key was used for a different request."
_WRITES = {
    "409": f"A conflict: the request clashes with the current state. {_IN_PROGRESS}",
    "413": "The request body is too large.",
    "415": "The body is not JSON.",
    "422": f"The request is valid but cannot be carried out. {_REUSED}",
}
# What every write may also answer, added to the description of an operation's own 409 or 422.
_WRITES_TOO = {"409": _IN_PROGRESS, "422": _REUSED}
RETRY_AFTER_HEADER = {
    "description": "Seconds to wait before retrying.",
    "schema": {"type": "integer", "minimum": 1},
}
# config.request_id gives every answer one; a caller's own is kept when it is short and plain.
REQUEST_ID_HEADER = {
    "description": "This request's id: on the service's log lines (`req=`) and in the audit "
    "log (`GET /api/v1/audit-events?request_id=`); quote it when reporting a problem. It is "
    "the `X-Request-ID` the request sent when that was plain (letters, digits, `.`, `_`, `-`; "
    "at most 64), else one the service made.",
    "required": True,
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,64}$"},
}
REPLAYED_HEADER = {
    "description": "`true` when this is the first answer to a request sent before with the "
    "same Idempotency-Key, replayed (nothing ran again); absent otherwise.",
    "schema": {"type": "string", "enum": ["true"]},
}
# The answers api.idempotency keeps, and so may replay: every one but a 400 (refused before
# anything ran), a 429 or a 5xx (their retry must run) and one with a Retry-After (a 409 that
# passes by itself, the only such status that is also kept otherwise).
_REPLAYABLE = ("404", "409", "422")
# For the operations that call integrator.io while the request waits.
INTEGRATOR_RESPONSES = {
    422: OpenApiResponse(
        description="integrator.io (or the app it called) refused the request; its answer is "
        "in `error.remote`."
    ),
    429: OpenApiResponse(
        description="`rate_limited`: integrator.io is limiting this service's calls. Retry "
        "after `Retry-After` seconds."
    ),
}
IDEMPOTENCY_PARAMETER = {
    "name": idempotency.HEADER,
    "in": "header",
    "required": False,
    "description": "Any unique string (e.g. a UUID). Repeating a request with the same key "
    "within 24 hours returns the first response instead of acting again; a first answer of "
    "400, 429 or 5xx is not kept, so the corrected or retried request runs.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"^[!-~]+$"},
}


class ApiAutoSchema(AutoSchema):
    """An operation's description is its handler's own docstring, or nothing: never the
    docstring of its view class or of a base class, which are written for this code's readers
    (drf-spectacular falls back to them). Summaries are given with each `extend_schema`.

    Every operation states the API key scope it needs (the view's `required_scopes`,
    api.scopes) three ways: as the scopes of its security requirement (OpenAPI 3.1 allows them
    for any scheme), as `x-required-scope` for tools, and in its description for readers."""

    def get_description(self) -> str:
        handler = getattr(type(self.view), self.method.lower(), None)
        doc = getattr(handler, "__doc__", None)
        return inspect.cleandoc(doc) if doc else ""

    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        scope = scope_required(self.view, self.method)
        if scope is None:
            return operation
        if scope == ANY_SCOPE:
            operation["security"] = [{ApiKeyAuthenticationScheme.name: []}]
            note = "**Scope:** none: any valid API key."
        else:
            operation["security"] = [{ApiKeyAuthenticationScheme.name: [scope]}]
            operation["x-required-scope"] = scope
            note = (
                f"**Scope:** `{scope}` ({Scope(scope).label.lower()}). A key without it is "
                "answered 403 `insufficient_scope`."
            )
        description = operation.get("description", "")
        operation["description"] = f"{description}\n\n{note}" if description else note
        return operation


def lib_doc_excludes() -> list[type]:
    """SPECTACULAR_SETTINGS["GET_LIB_DOC_EXCLUDES"]: drf-spectacular's own list, plus our base
    classes, so that a serializer without a docstring does not show its base class's."""
    from api.serializers import InputSerializer
    from api.views import ApiView

    return [*get_lib_doc_excludes(), ApiView, InputSerializer]


class InputSerializerSchema(OpenApiSerializerExtension):
    """Request bodies refuse fields they do not declare (api.serializers.InputSerializer):
    the document says so, with `additionalProperties: false`."""

    target_class = "api.serializers.InputSerializer"
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_basic_serializer(self.target, direction)
        schema["additionalProperties"] = False
        return schema


class UniqueListFieldSchema(OpenApiSerializerFieldExtension):
    """A list that refuses a duplicate item (api.serializers.UniqueListField) says so."""

    target_class = "api.serializers.UniqueListField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        schema["uniqueItems"] = True
        return schema


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        # HTTP bearer rather than an apiKey header: Swagger UI's "Authorize" box then takes the
        # key alone and sends the scheme itself.
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "Send the API key as `Authorization: Bearer <key>` (in the "
            "Authorize box, paste the key alone). Create one with "
            "`manage.py create_api_key NAME --scope SCOPE ...`. A key may do only what its "
            "scopes allow; each operation names the one it needs (its security requirement, "
            "`x-required-scope`). Scopes: "
            + "; ".join(f"`{scope.value}`: {scope.label.lower()}" for scope in Scope)
            + ".",
        }


# OpenAPI links: which operation's answer names what another operation acts on. They show a
# reader where to go next, and let a client (or a stateful test) follow them.
_TENANT = {"external_id": "$response.body#/external_id"}
_SAME_TENANT = {"external_id": "$request.path.external_id"}
LINKS = {
    ("tenants_create", ("200", "201")): {
        "tenant": ("tenants_retrieve", _TENANT),
        "update": ("tenants_partial_update", _TENANT),
        "deprovision": ("tenants_destroy", _TENANT),
        "connect_link": ("tenants_connect_links_create", _TENANT),
        "jobs": ("tenants_jobs_list", _TENANT),
        "health": ("tenants_health", _TENANT),
    },
    ("tenants_connect_links_create", ("201",)): {
        "link": (
            "tenants_connect_links_retrieve",
            {**_SAME_TENANT, "link_id": "$response.body#/id"},
        ),
        "revoke": (
            "tenants_connect_links_revoke",
            {**_SAME_TENANT, "link_id": "$response.body#/id"},
        ),
    },
    **{
        (operation, ("202",)): {
            "job": ("jobs_retrieve", {"job_id": "$response.body#/id"}),
            "cancel": ("jobs_cancel", {"job_id": "$response.body#/id"}),
        }
        for operation in ("tenants_provision", "tenants_repair", "jobs_retry")
    },
    ("tenants_flows_run", ("202",)): {
        "errors": ("tenants_runs_errors", {**_SAME_TENANT, "run_id": "$response.body#/run_id"}),
    },
    ("webhook_endpoints_create", ("201",)): {
        name: (operation, {"endpoint_id": "$response.body#/id"})
        for name, operation in (
            ("endpoint", "webhook_endpoints_retrieve"),
            ("update", "webhook_endpoints_partial_update"),
            ("rotate_secret", "webhook_endpoints_rotate_secret"),
            ("ping", "webhook_endpoints_ping"),
            ("delete", "webhook_endpoints_destroy"),
        )
    },
    **{
        (operation, ("202",)): {
            "delivery": ("webhook_deliveries_retrieve", {"delivery_id": "$response.body#/id"}),
        }
        for operation in ("webhook_deliveries_replay", "webhook_endpoints_ping")
    },
}


def add_links(result, generator, request, public):
    """Postprocessing hook: the LINKS above, on the responses they follow from."""
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for (operation_id, statuses), links in LINKS.items():
                if operation.get("operationId") != operation_id:
                    continue
                for status in statuses:
                    response = operation["responses"].get(status)
                    if response is not None:
                        response["links"] = {
                            name: {"operationId": target, "parameters": dict(parameters)}
                            for name, (target, parameters) in links.items()
                        }
    return result


def add_errors_and_idempotency(result, generator, request, public):
    """Postprocessing hook (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"])."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    error_content = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            errors = dict(_ALWAYS)
            if method != "get":
                errors.update(_WRITES)
                parameters = operation.setdefault("parameters", [])
                if not any(p.get("name") == idempotency.HEADER for p in parameters):
                    parameters.append(IDEMPOTENCY_PARAMETER)
            responses = operation.setdefault("responses", {})
            for status, description in errors.items():
                responses.setdefault(status, {"description": description})
            if method != "get":
                for status, also in _WRITES_TOO.items():
                    said = responses[status].get("description", "")
                    if also not in said:
                        responses[status]["description"] = f"{said.rstrip()} {also}".strip()
                # A conflict that passes by itself (`job_in_progress`, a key in use) says when.
                responses["409"].setdefault("headers", {})["Retry-After"] = {
                    **RETRY_AFTER_HEADER,
                    "description": "Seconds to wait before retrying, on a conflict that passes "
                    "by itself (`idempotency_request_in_progress`, `job_in_progress`, "
                    "`tenant_deprovisioning`).",
                }
            if method != "get":
                for status, response in responses.items():
                    if status.startswith("2") or status in _REPLAYABLE:
                        response.setdefault("headers", {})[idempotency.REPLAYED_HEADER] = (
                            REPLAYED_HEADER
                        )
            # Every error answer has the one error shape, those an operation declares itself
            # (a read's 409, a 422 or 502 of integrator.io) as much as the common ones.
            for status, response in responses.items():
                if int(status) >= 400:
                    response.setdefault("content", error_content)
            for status in ("429", "503"):
                if status in responses:
                    responses[status].setdefault("headers", {})["Retry-After"] = RETRY_AFTER_HEADER
            for response in responses.values():
                response.setdefault("headers", {})["X-Request-ID"] = REQUEST_ID_HEADER
    return result


# The answers that say where what they made or queued is (views set `Location`): by operation,
# the statuses that carry it and what it names.
LOCATION_HEADERS = {
    "tenants_create": (("200", "201"), "The tenant: `/api/v1/tenants/{external_id}`."),
    "tenants_provision": (("202",), "The queued job: `/api/v1/jobs/{job_id}`."),
    "tenants_repair": (("202",), "The queued job: `/api/v1/jobs/{job_id}`."),
    "tenants_destroy": (("202",), "The deprovision job: `/api/v1/jobs/{job_id}`."),
    "tenants_upgrade": (("202",), "The queued job: `/api/v1/jobs/{job_id}`."),
    "rollouts_create": (("201",), "The rollout: `/api/v1/rollouts/{rollout_id}`."),
    "jobs_retry": (("202",), "The job, queued again: `/api/v1/jobs/{job_id}`."),
    "tenants_connect_links_create": (
        ("201",),
        "The link: `/api/v1/tenants/{external_id}/connect-links/{link_id}`.",
    ),
    "webhook_endpoints_create": (
        ("201",),
        "The endpoint: `/api/v1/webhooks/endpoints/{endpoint_id}`.",
    ),
    "webhook_endpoints_ping": (
        ("202",),
        "The ping's delivery, to poll: `/api/v1/webhooks/deliveries/{delivery_id}`.",
    ),
    "webhook_deliveries_replay": (
        ("202",),
        "The delivery that sends it (a new one, or the pending one sent now): "
        "`/api/v1/webhooks/deliveries/{delivery_id}`.",
    ),
}


def add_location_headers(result, generator, request, public):
    """Postprocessing hook: the `Location` header of the answers in LOCATION_HEADERS (an
    idempotent replay sends it too)."""
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            statuses, description = LOCATION_HEADERS.get(operation.get("operationId"), ((), ""))
            for status in statuses:
                response = operation.get("responses", {}).get(status)
                if response is not None:
                    response.setdefault("headers", {})["Location"] = {
                        "description": description,
                        "schema": {"type": "string", "format": "uri-reference"},
                    }
    return result


def add_non_empty_query_values(result, generator, request, public):
    """Postprocessing hook: no query parameter takes an empty value (api.query refuses one for
    every operation), so every string parameter says `minLength: 1`."""
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                if parameter.get("in") == "query" and schema.get("type") == "string":
                    schema.setdefault("minLength", 1)
    return result
