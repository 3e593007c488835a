"""What a request gets while the database cannot be reached: a 503 that says to retry.

PostgreSQL down or restarting is an outage of a dependency, not a bug: the caller should retry
(a `Retry-After` header says when), and the log should say what happened once per request
rather than print a traceback for every one. Three places answer it:

- API views: `api.exception_handler` (DRF catches view exceptions itself, authentication's
  API-key lookup included), in the API's error shape with code `service_unavailable`;
- the credential forms: `connect.views.connect_page`, a page in the forms' look that keeps
  their embedding headers;
- everything else (the admin, or an API response whose last write failed):
  `DatabaseUnavailableMiddleware`.
"""

import logging

from django.db import InterfaceError, OperationalError
from django.http import JsonResponse
from django.shortcuts import render

from connect.branding import brand_for

logger = logging.getLogger(__name__)

# Connection refused or lost, a server shutting down, too many connections; Django wraps the
# driver's errors in these. (A deadlock or a lock timeout is an OperationalError too; retrying
# is the right answer to those as well.)
DATABASE_ERRORS = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 10
API_ERROR_CODE = "service_unavailable"
API_ERROR_MESSAGE = "The service is unavailable for a moment. Retry the request later."


def database_unavailable_log(error: Exception) -> None:
    """The request's one log line: a warning with the driver's exception class, no traceback
    (its message can name hosts, users and databases)."""
    cause = error.__cause__ or error
    logger.warning(
        "database unavailable (%s.%s); answered 503",
        type(cause).__module__,
        type(cause).__name__,
    )


def unavailable_mark(response):
    """Add `Retry-After` and keep Django from logging the 503 again as an ERROR line."""
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response._has_been_logged = True
    return response


def unavailable_page(request, *, brand=None, nonce: str = "", status: int = 503):
    """A page in the credential forms' look (their branding, or the service's default)."""
    context = {"brand": brand or brand_for(), "nonce": nonce}
    return unavailable_mark(render(request, "unavailable.html", context, status=status))


class DatabaseUnavailableMiddleware:
    """A database error that reaches Django from a view becomes a 503 (JSON under /api/)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, DATABASE_ERRORS):
            return None
        database_unavailable_log(exception)
        if request.path.startswith("/api/"):
            # The API's error shape (api.exception_handler.error_body).
            body = {"error": {"code": API_ERROR_CODE, "message": API_ERROR_MESSAGE}}
            return unavailable_mark(JsonResponse(body, status=503))
        return unavailable_page(request)
