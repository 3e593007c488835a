"""Upstream-shaped errors: one class per integrator.io error, each rendering the envelope.

{"errors": [{"code": "...", "message": "...", "field": "..."}]}
"""

import json

from aiohttp import web

from sandbox import assumptions


class ApiError(Exception):
    status = 400
    code: str | int = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        code: str | int | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status

    def headers(self) -> dict[str, str]:
        return {}

    def body(self) -> dict:
        item: dict = {"code": self.code, "message": self.message}
        if self.field:
            item["field"] = self.field
        return {"errors": [item]}

    def response(self) -> web.Response:
        return web.Response(
            status=self.status,
            text=json.dumps(self.body()),
            content_type="application/json",
            headers=self.headers(),
        )


class Unauthorized(ApiError):
    status = 401
    code = assumptions.UNAUTHORIZED_CODE

    def __init__(self, message: str = assumptions.UNAUTHORIZED_MESSAGE) -> None:
        super().__init__(message)


class NotFound(ApiError):
    status = 404
    code = assumptions.NOT_FOUND_CODE

    @classmethod
    def for_model(cls, model: str) -> "NotFound":
        return cls(assumptions.not_found_message(model))


class MethodNotAllowed(ApiError):
    status = 405
    code = "method_not_allowed"


class UnsupportedMediaType(ApiError):
    status = 415
    code = "unsupported_media_type"

    def __init__(self) -> None:
        super().__init__("Request body must be JSON (Content-Type: application/json).")


class InvalidJson(ApiError):
    status = assumptions.INVALID_JSON_STATUS
    code = "invalid_json"


class InvalidQuery(ApiError):
    status = 400
    code = "invalid_query"


class InvalidQueryParams(ApiError):
    status = 400
    code = "invalid_query_params"


class MissingRequiredField(ApiError):
    status = assumptions.VALIDATION_STATUS
    code = "missing_required_field"

    def __init__(self, field: str, message: str | None = None) -> None:
        super().__init__(message or f"{field} is required.", field=field)


class InvalidField(ApiError):
    status = assumptions.VALIDATION_STATUS
    code = "invalid_field"


class InvalidRef(ApiError):
    status = assumptions.INVALID_REF_STATUS
    code = "invalid_ref"


class InvalidConnectionMap(ApiError):
    status = assumptions.CLONE_REQUEST_ERROR_STATUS
    code = "invalid_connectionMap"


class InvalidJobStatus(ApiError):
    status = 422
    code = "invalid_job_status"


class VirtualExportFailed(ApiError):
    """The target of a virtual export did not give records; `code` is its status or a
    Node-style network error code, as for a failed ping."""

    status = assumptions.VIRTUAL_EXPORT_FAILURE_STATUS


class RateLimited(ApiError):
    status = 429
    code = "rate_limited"

    def __init__(self, retry_after: int) -> None:
        self.retry_after = max(1, int(retry_after))
        super().__init__(f"Too many requests. Retry after {self.retry_after} seconds.")

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class InjectedServerError(ApiError):
    """An error answered by a fault rule of the control plane (a 5xx, or a 4xx refusal)."""

    code = "internal_error"
