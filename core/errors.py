"""The one domain exception of the service.

Services raise a subclass of `ApplicationError` for every outcome a caller must handle (an
unknown id, a conflict, invalid input). The DRF exception handler turns it into the API's error
shape, `{"error": {"code", "message", "fields"?, "remote"?}}`, and HTML views show `message`
and `fields` next to their form. `http_status` is the status the API answers with; it is a
property of the error's meaning, so that every endpoint reports the same error the same way.

`remote` is what a remote system (integrator.io, or an app it called for us) answered, as
`{"status", "message"}`, when that answer explains the error: kept out of `message`, which
says in words what failed.
"""

from __future__ import annotations


class ApplicationError(Exception):
    code: str = "invalid_request"
    http_status: int = 400

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        fields: dict[str, list[str]] | None = None,
        http_status: int | None = None,
        remote: dict | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if http_status is not None:
            self.http_status = http_status
        self.fields = fields or {}
        self.remote = remote

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"


class NotFoundError(ApplicationError):
    code = "not_found"
    http_status = 404


class ConflictError(ApplicationError):
    code = "conflict"
    http_status = 409
    # Set on a conflict that passes by itself (another job finishing): the API answers it
    # with Retry-After, and an Idempotency-Key keeps no such answer, so that the retry runs.
    retry_after: float | None = None


class InvalidInputError(ApplicationError):
    """Input that is well-formed but breaks a rule; `fields` maps dotted paths to messages."""

    code = "invalid_fields"
    http_status = 400


class UnprocessableError(ApplicationError):
    """A valid request that the remote (or the current state) refused."""

    code = "unprocessable"
    http_status = 422


class DependencyUnavailableError(ApplicationError):
    """A service we depend on (integrator.io) could not answer; retrying later may work."""

    code = "dependency_unavailable"
    http_status = 503

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class DependencyRateLimitedError(DependencyUnavailableError):
    """A service we depend on (integrator.io) is limiting our calls: retry after
    `retry_after` seconds. Answered at once rather than waited out while the caller waits."""

    code = "rate_limited"
    http_status = 429


class IntegratorRefused(UnprocessableError):
    """integrator.io answered, and refused the request (a 400, 409, 422): waiting does not
    help, so it is no 503 with Retry-After; its answer is in `remote`."""

    code = "integrator_refused"


class IntegratorUnavailable(DependencyUnavailableError):
    """integrator.io could not answer (or refused the service's own token)."""

    code = "integrator_unavailable"


class IntegratorRateLimited(DependencyRateLimitedError):
    """integrator.io (or our share of its rate limit) is limiting the service's calls."""

    code = "rate_limited"
