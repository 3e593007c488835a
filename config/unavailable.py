"""The database-unavailable answer for what neither the API nor the forms catch themselves
(the admin, or an API response whose last write failed): see core.unavailable."""

from django.http import JsonResponse

from connect.unavailable_page import unavailable_page
from core.unavailable import (
    API_ERROR_CODE,
    API_ERROR_MESSAGE,
    DATABASE_ERRORS,
    database_unavailable_log,
    unavailable_mark,
)


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
