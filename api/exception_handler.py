"""One error shape for every API response:
`{"error": {"code", "message", "fields"?, "remote"?}}`.

`fields` maps a dotted path of the request body (`settings.sync_interval_minutes`,
`fields.api_key`) or a query parameter to a list of messages; `remote` is what integrator.io
(or an app it called) answered, `{"status", "message"}`, when that explains the error.
Unexpected exceptions are logged with their traceback and answered with a generic 500 in the
same shape; their text never reaches the caller. A database that cannot be reached is not
unexpected: 503 `service_unavailable` with Retry-After, and one warning line (see
`config.unavailable`).
"""

import logging
import math

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import set_rollback

from core import unavailable
from core.errors import ApplicationError, DependencyUnavailableError

logger = logging.getLogger(__name__)

# DRF's own codes, renamed where a name reads better to an API user.
_DRF_CODES = {
    "parse_error": "malformed_request",
    "invalid": "invalid_fields",
}


def error_body(
    code: str,
    message: str,
    fields: dict[str, list[str]] | None = None,
    remote: dict | None = None,
) -> dict:
    error: dict = {"code": code, "message": message}
    if fields:
        error["fields"] = fields
    if remote:
        error["remote"] = remote
    return {"error": error}


def flatten_errors(detail, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as {"a.b.0.c": ["message", ...]}; top-level errors that
    belong to no field are under "non_field_errors"."""
    flat: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if key in ("non_field_errors",) and prefix:
                name = prefix
            flat.update(_merge(flat, flatten_errors(value, name)))
    elif isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            flat.setdefault(prefix or "non_field_errors", []).extend(str(i) for i in detail)
        else:
            for index, item in enumerate(detail):
                if item in ({}, []):
                    continue
                name = f"{prefix}.{index}" if prefix else str(index)
                flat.update(_merge(flat, flatten_errors(item, name)))
    else:
        flat.setdefault(prefix or "non_field_errors", []).append(str(detail))
    return flat


def _merge(into: dict[str, list[str]], more: dict[str, list[str]]) -> dict[str, list[str]]:
    return {key: [*into.get(key, []), *messages] for key, messages in more.items()}


def _validation_message(fields: dict[str, list[str]]) -> str:
    if list(fields) == ["non_field_errors"]:
        return " ".join(fields["non_field_errors"])
    return "The request has invalid fields: " + ", ".join(sorted(fields)) + "."


def api_exception_handler(exc, context):
    headers: dict[str, str] = {}
    if isinstance(exc, ApplicationError):
        status, body = exc.http_status, error_body(exc.code, exc.message, exc.fields, exc.remote)
        retry_after = getattr(exc, "retry_after", None)
        if retry_after:
            headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
        if isinstance(exc, DependencyUnavailableError):
            set_rollback()
            return _dependency_unavailable_logged(
                Response(body, status=status, headers=headers), exc
            )
    elif isinstance(exc, exceptions.ValidationError):
        fields = flatten_errors(exc.detail)
        status = 400
        body = error_body("invalid_fields", _validation_message(fields), fields)
    elif isinstance(exc, exceptions.APIException):
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else exc.default_code
        status = exc.status_code
        body = error_body(_DRF_CODES.get(code, code), _plain_message(exc.detail))
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(math.ceil(exc.wait))
    elif isinstance(exc, Http404):
        status, body = 404, error_body("not_found", "Not found.")
    elif isinstance(exc, DjangoPermissionDenied):
        status, body = 403, error_body("permission_denied", "Permission denied.")
    elif isinstance(exc, RequestDataTooBig):
        status = 413
        body = error_body("request_too_large", "The request body is larger than allowed.")
    elif isinstance(exc, TooManyFieldsSent):
        status, body = 400, error_body("malformed_request", "The request has too many fields.")
    elif isinstance(exc, unavailable.DATABASE_ERRORS):
        unavailable.database_unavailable_log(exc)
        set_rollback()
        body = error_body(unavailable.API_ERROR_CODE, unavailable.API_ERROR_MESSAGE)
        return unavailable.unavailable_mark(Response(body, status=503))
    else:
        view = context.get("view")
        logger.exception("unhandled error in %s", type(view).__name__ if view else "API view")
        status = 500
        body = error_body("internal_error", "The server failed to handle the request.")
    set_rollback()
    return Response(body, status=status, headers=headers)


def _dependency_unavailable_logged(response: Response, exc: DependencyUnavailableError):
    """integrator.io failing or limiting the service's calls is an outage of a dependency, as
    the database being down is: the request's one line is a warning that says what was
    answered and why. Django's own line for it ("ERROR Service Unavailable: /api/v1/...")
    named the path only, so an operator could not tell an outage from a bug; it is not
    written (`_has_been_logged`)."""
    logger.warning("answered %s %s: %s", response.status_code, exc.code, exc.message)
    response._has_been_logged = True
    return response


def _plain_message(detail) -> str:
    if isinstance(detail, dict | list):
        return " ".join(" ".join(messages) for messages in flatten_errors(detail).values())
    return str(detail)
