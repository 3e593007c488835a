"""What a request gets while the database cannot be reached: a 503 that says to retry.

PostgreSQL down or restarting is an outage of a dependency, not a bug: the caller should retry
(a `Retry-After` header says when), and the log should say what happened once per request
rather than print a traceback for every one. Three places answer it, with these pieces:

- API views: `api.exception_handler` (DRF catches view exceptions itself, authentication's
  API-key lookup included), in the API's error shape with code `service_unavailable`;
- the credential forms: `connect.views.connect_page`, a page in the forms' look that keeps
  their embedding headers (`connect.unavailable_page`);
- everything else (the admin, or an API response whose last write failed):
  `config.unavailable.DatabaseUnavailableMiddleware`.
"""

import logging

from django.db import InterfaceError, OperationalError

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
