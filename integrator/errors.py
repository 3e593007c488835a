"""Errors raised by the integrator.io client, one class per meaning.

Every error carries `retryable`: True when sending the same request again later may succeed
(the caller can turn it into a Celery retry), False when repeating it cannot help or is unsafe.
`OutcomeUnknownError` is deliberately not retryable: the request may have taken effect, so the
caller must look at the remote state (reconcile) before deciding to send it again.

Messages never contain the API token, request headers or request bodies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class ErrorDetail:
    """One item of the remote's `{"errors": [{code, field, message}]}` envelope."""

    code: str | None
    message: str
    field: str | None = None


class IntegratorError(Exception):
    """Base class of every error the client raises."""

    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        method: str | None = None,
        path: str | None = None,
        status: int | None = None,
        errors: tuple[ErrorDetail, ...] = (),
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.method = method
        self.path = path
        self.status = status
        self.errors = tuple(errors)
        # Seconds the remote (Retry-After) or our limiter asked us to wait, if any.
        self.retry_after = retry_after

    @property
    def code(self) -> str | None:
        """The first remote error code, if the remote sent one."""
        return self.errors[0].code if self.errors else None

    def __str__(self) -> str:
        where = f"{self.method} {self.path}" if self.method else ""
        status = f" -> {self.status}" if self.status is not None else ""
        prefix = f"{where}{status}: " if where or status else ""
        return f"{prefix}{self.message}"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, code={self.code!r}, "
            f"method={self.method!r}, path={self.path!r}, message={self.message!r})"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only constructors do not survive pickling by default; Celery pickles
        # exceptions when a task fails, so rebuild from the instance dict.
        return (_rebuild, (type(self), self.message, self.__dict__))


def _rebuild(cls: type[IntegratorError], message: str, state: dict[str, Any]) -> IntegratorError:
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    error.__dict__.update(state)
    return error


class AuthenticationError(IntegratorError):
    """401: the API token is missing, wrong, expired or purged."""


class PermissionDeniedError(AuthenticationError):
    """403: the token is valid but its scope does not cover this resource."""


class NotFoundError(IntegratorError):
    """404: the resource does not exist (or is not visible to this token)."""


class ValidationError(IntegratorError):
    """400/422 and other 4xx: the remote refused the request; see `errors` for details."""


class RateLimitedError(IntegratorError):
    """429 from the remote, or our own bucket could not grant a token within its bound.

    `retry_after` is the number of seconds to wait before trying again.
    """

    retryable = True


class UnavailableError(IntegratorError):
    """502/503/504: the remote is temporarily unable to answer."""

    retryable = True


class CircuitOpenError(UnavailableError):
    """integrator.io has been failing (the circuit breaker is open): the call was not sent.

    `retry_after` is the number of seconds until the breaker lets its next probe through;
    before then every call of the deployment fails the same way, without touching the network.
    """


class BudgetSpentError(UnavailableError):
    """The client's time budget for all its calls is spent (a caller who waits, such as a web
    request, gave it one): the call was not sent. Not retried: the budget is what bounds the
    retries. `retry_after` is a suggested wait before the caller asks again."""

    retryable = False


class ServerError(IntegratorError):
    """Any other 5xx on an idempotent request: the remote failed while handling it; the same
    request may well succeed a little later."""

    retryable = True


class ConnectionFailedError(IntegratorError):
    """The network failed: no connection, a timeout, or a response that was cut off.

    `sent` is False only when the request provably never reached the remote
    (connection refused, name not resolved, connect timeout).
    """

    retryable = True

    def __init__(self, message: str, *, sent: bool, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.sent = sent


class OutcomeUnknownError(IntegratorError):
    """A non-idempotent request (POST) was sent but its outcome could not be read.

    The remote may or may not have acted on it. The client never repeats such a request;
    the caller must reconcile (look for the object it meant to create) before retrying.
    """


class UnexpectedResponseError(IntegratorError):
    """A response that does not match the documented API (bad JSON, foreign Link, 3xx)."""


class MaskedSecretError(IntegratorError, ValueError):
    """A write body carries the masked placeholder `"******"` where a secret belongs.

    Raised before anything is sent: the remote would store the asterisks as the secret.
    """
