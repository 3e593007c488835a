"""The errors of the runs domain, each a kind of `core.errors.ApplicationError`."""

from core.errors import (
    ApplicationError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    UnprocessableError,
)


class FlowNotFound(NotFoundError):
    code = "flow_not_found"


class RunNotFound(NotFoundError):
    code = "run_not_found"


class TenantNotLive(ConflictError):
    """Runs belong to tenants whose integration exists and runs (active or degraded)."""

    code = "tenant_not_live"


class FlowDisabled(ConflictError):
    """The flow is switched off (the tenant's settings say so) or no longer in the integration:
    running it by hand would go behind that choice."""

    code = "flow_disabled"


class RunRefused(UnprocessableError):
    """integrator.io refused the request (its message says why)."""

    code = "run_refused"


class RunOutcomeUnknown(ApplicationError):
    """The run request was sent but its answer was lost: the flow may or may not be running.
    Look at the tenant's runs before asking again."""

    code = "run_outcome_unknown"
    http_status = 502


class ErrorManagementUnsupported(ConflictError):
    """The integrator.io account keeps errors the Error Management 1.0 way (per job), where
    the API can neither resolve nor retry them."""

    code = "error_management_unsupported"


class RunErrorsNotFound(InvalidInputError):
    """An error named in the request body (`error_ids`) is not an open error of the run (for a
    resolve: not an error of the run at all, a resolved one being no change): a bad field, so
    a 400 `invalid_fields` naming `error_ids`, as every refused body field is (README, "API
    conventions"); the run named in the path is the operation's 404 (`RunNotFound`)."""


class RunErrorsNotRetriable(UnprocessableError):
    """None of the chosen errors carries retry data (e.g. an export that could not read)."""

    code = "run_errors_not_retriable"


class RunErrorsNoneOpen(RunErrorsNotRetriable):
    """A retry of all the run's open errors when none is open any more: they were retried or
    resolved since (another tab, a colleague, the host). The same code for API clients; the
    integration page says it in its own words, not as errors that cannot be retried."""


class RunErrorsNoneOpenToResolve(UnprocessableError):
    """A resolve of all the run's open errors, asked to refuse when none is open any more
    (the integration page: they were retried or resolved since it was shown). The API's
    resolve answers the errors as they are instead: asking twice is safe there."""

    code = "run_errors_none_open"


class NoConnectionsToCheck(ConflictError):
    """The tenant has no connection in integrator.io yet (none was connected), so there is
    nothing to ping."""

    code = "no_connections"


class ConnectionCheckTooSoon(ApplicationError):
    """The tenant's connections were checked on request moments ago: one check per tenant
    every `CONNECTION_CHECK_MIN_SECONDS`. `retry_after` says when the next one is taken."""

    code = "check_too_soon"
    http_status = 429

    def __init__(self, message: str, *, retry_after: int, **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after
