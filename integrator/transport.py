"""HTTP for the integrator.io client: pooling, timeouts, rate limiting, retries, error mapping.

One `Transport.request` call is one API operation; it may make several HTTP attempts. Every
attempt takes a rate-limiter token, is timed, and is reported to `on_call` as a CallRecord.

Retry policy (stripe-python's, narrowed to what is provably safe):
- GET, PUT, PATCH, DELETE (idempotent) are retried on connection errors, timeouts, 429 and
  502/503/504, with exponential backoff and full jitter, honouring Retry-After, until
  `max_attempts` or `max_retry_seconds` runs out.
- POST is retried only when the request provably never left (connection refused, name not
  resolved, connect timeout) or was refused with 429 (see quirks). Any other lost or failed
  answer to a POST (read timeout, dropped connection, 5xx) raises OutcomeUnknownError: the
  remote may have acted, and only the caller can check.
"""

from __future__ import annotations

import itertools
import json as jsonlib
import logging
import random
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

import tenacity
import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    NewConnectionError,
    ProxyError,
)
from urllib3.exceptions import TimeoutError as HTTPTimeoutError

from integrator import quirks
from integrator.circuit_breaker import (
    ALLOW_UNGUARDED,
    Admission,
    CircuitBreaker,
    RedisCircuitBreaker,
)
from integrator.errors import (
    AuthenticationError,
    BudgetSpentError,
    CircuitOpenError,
    ConnectionFailedError,
    ErrorDetail,
    IntegratorError,
    NotFoundError,
    OutcomeUnknownError,
    PermissionDeniedError,
    RateLimitedError,
    ServerError,
    UnavailableError,
    UnexpectedResponseError,
    ValidationError,
)
from integrator.http_pool import build_pool
from integrator.pause import MAX_PAUSE_SECONDS, RedisSendPause, SendPause
from integrator.rate_limit import DEFAULT_MAX_WAIT, RateLimiter
from integrator.redaction import fingerprint, redact_url, scrub
from retry_policy import retry_after_seconds, retry_delay

logger = logging.getLogger("integrator")

Timeout = float | tuple[float, float]

DEFAULT_TIMEOUT: tuple[float, float] = (5.0, 30.0)
# What a caller whose budget ran out is told to wait before asking again.
BUDGET_SPENT_RETRY_AFTER = 5.0
DEFAULT_MAX_ATTEMPTS = 4
DEFAULT_MAX_RETRY_SECONDS = 30.0
# The longest wait a 429's Retry-After is taken for: the longest pause (integrator.pause).
MAX_RETRY_AFTER_SECONDS = MAX_PAUSE_SECONDS
DEFAULT_POOL_MAXSIZE = 64
# Full-jitter backoff (retry_policy): attempt n sleeps uniform(0, min(cap, base * 2**(n-1))).
BACKOFF_BASE_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 8.0
RETRY_AFTER_SPREAD = 0.1

UNAVAILABLE_STATUSES = frozenset({502, 503, 504})
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH"})
USER_AGENT = "embedded-provisioning-integrator/0.1"


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One HTTP attempt, as reported to `on_call`. Never holds headers or bodies.

    `path` is the URL path with its query (ids kept, secret-looking values masked). `status` is
    None when no response arrived. `error_code` is the remote's first error code, or one of
    ours: connect_failed, connect_timeout, read_timeout, connection_lost, rate_limit_wait (our
    limiter, or a deployment-wide Retry-After pause, refused to wait that long; no request was
    sent), circuit_open (the circuit breaker is open; no request was sent), bad_response.
    """

    method: str
    path: str
    status: int | None
    duration_ms: float
    attempt: int
    error_code: str | None


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: Any
    next_url: str | None


def _never_sent(error: HTTPError) -> bool:
    """True when the connection was never established, so no byte of the request left."""
    if isinstance(error, ProxyError):
        error = error.original_error  # the proxy itself could not be reached, or refused
    # NewConnectionError and NameResolutionError are ConnectTimeoutError subclasses.
    return isinstance(error, ConnectTimeoutError)


def _pair(timeout: Timeout) -> tuple[float, float]:
    """A timeout as (connect, read): one number means both."""
    return timeout if isinstance(timeout, tuple) else (timeout, timeout)


# One link of an RFC 8288 Link header: <url>; params. integrator.io sends rel="next" (quoted
# or not) when a list has more pages.
_LINK = re.compile(r"<([^>]*)>((?:\s*;\s*[^;,]*)*)")
_NEXT = re.compile(r";\s*rel\s*=\s*\"?([^\";]*)\"?", re.IGNORECASE)


def next_link(header: str | None) -> str | None:
    """The URL of the Link header's rel="next", or None."""
    if not header:
        return None
    for match in _LINK.finditer(header):
        rel = _NEXT.search(match.group(2))
        if rel and "next" in rel.group(1).lower().split():
            return match.group(1).strip()
    return None


def should_retry(error: BaseException, *, idempotent: bool) -> bool:
    """Whether to send the request again now, within the same call: the one place this is
    decided, from the error's own `retryable` flag and whether repeating is safe.

    - Our own limiter's refusal (a RateLimitedError without a status) and the circuit
      breaker's (CircuitOpenError) go back to the caller, which may wait longer than one call
      should.
    - An idempotent request (GET, PUT, PATCH, DELETE) is sent again for any retryable error.
    - A POST only when it provably did nothing: refused with 429 before processing, or a
      connection that was never established.
    """
    if not isinstance(error, IntegratorError) or not error.retryable:
        return False
    if isinstance(error, CircuitOpenError):
        return False  # the breaker's own verdict: the caller comes back after `retry_after`
    if isinstance(error, RateLimitedError) and error.status != 429:
        return False
    if idempotent:
        return True
    if isinstance(error, RateLimitedError):
        return quirks.POST_REFUSED_WITH_429_IS_UNPROCESSED
    return isinstance(error, ConnectionFailedError) and not error.sent


def _backoff(retry_state: tenacity.RetryCallState) -> float:
    error = retry_state.outcome.exception() if retry_state.outcome else None
    retry_after = getattr(error, "retry_after", None)
    if retry_after is not None:
        # Honour the remote's wait (whatever our cap); the spread keeps workers from
        # returning all at once.
        return retry_after * (1 + random.uniform(0, RETRY_AFTER_SPREAD))
    return retry_delay(
        attempt=retry_state.attempt_number,
        base=BACKOFF_BASE_SECONDS,
        cap=BACKOFF_CAP_SECONDS,
        jitter="full",
    )


def _log_retry(retry_state: tenacity.RetryCallState) -> None:
    error = retry_state.outcome.exception() if retry_state.outcome else None
    logger.info(
        "integrator.io call failed (%s), retry %d in %.2fs",
        error,
        retry_state.attempt_number,
        retry_state.upcoming_sleep,
    )


def _retry_after_capped(value: str | None) -> float | None:
    """The response's Retry-After in seconds, at most MAX_RETRY_AFTER_SECONDS (None: none)."""
    seconds = retry_after_seconds(value)
    return None if seconds is None else min(seconds, MAX_RETRY_AFTER_SECONDS)


class Transport:
    """Sends API operations for one token; used by IntegratorClient, safe to share by threads."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: Timeout = DEFAULT_TIMEOUT,
        rate_limiter: RateLimiter | None = None,
        on_call: Callable[[CallRecord], None] | None = None,
        pool: urllib3.PoolManager | None = None,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        max_retry_seconds: float = DEFAULT_MAX_RETRY_SECONDS,
        pool_maxsize: int = DEFAULT_POOL_MAXSIZE,
        trust_env: bool = False,
        circuit_breaker: CircuitBreaker | None = None,
        send_pause: SendPause | None = None,
        max_pause_wait: float = DEFAULT_MAX_WAIT,
        budget_seconds: float | None = None,
    ) -> None:
        if not token:
            raise ValueError("an integrator.io API token is required")
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(
                "base_url must be an absolute http(s) URL such as https://api.integrator.io/v1"
            )
        if max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.rate_limiter = rate_limiter
        self.circuit_breaker = circuit_breaker
        # The last call that failed as the platform being unwell, for CircuitOpenError.
        self.last_unwell: str | None = None
        self.send_pause = send_pause
        self.max_pause_wait = max_pause_wait
        # All the calls of this transport together, from its first (for a caller who waits:
        # build one per request). None: each call has its own timeout, and no more.
        self.budget_seconds = budget_seconds
        self._budget_ends: float | None = None
        self.on_call = on_call
        self.token_fingerprint = fingerprint(token)
        self._secrets = (token,)
        self._headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
            # What requests asked for; urllib3 decodes the answer.
            "Accept-Encoding": "gzip, deflate",
        }
        self._json_headers = {**self._headers, "Content-Type": "application/json"}
        self._owns_pool = pool is None
        self.pool = pool or build_pool(
            self.base_url, pool_maxsize=pool_maxsize, trust_env=trust_env
        )
        stop = tenacity.stop_after_attempt(max_attempts) | tenacity.stop_before_delay(
            max_retry_seconds
        )
        # Retrying objects keep their per-call state thread-locally, so sharing them is safe.
        self._retry_idempotent = tenacity.Retrying(
            retry=tenacity.retry_if_exception(lambda error: should_retry(error, idempotent=True)),
            wait=_backoff,
            stop=stop,
            before_sleep=_log_retry,
            reraise=True,
        )
        self._retry_post = self._retry_idempotent.copy(
            retry=tenacity.retry_if_exception(lambda error: should_retry(error, idempotent=False))
        )

    def close(self) -> None:
        if self._owns_pool:
            self.pool.clear()

    def url_for(self, path: str, params: Mapping[str, Any] | None = None) -> str:
        url = self.base_url + path
        if params:
            query = {k: v for k, v in params.items() if v is not None}
            if query:
                url += "?" + urlencode(query, safe=",:")
        return url

    def follow(self, link: str) -> str:
        """Resolve a Link URL and refuse one outside our API: it would receive our token."""
        url = urljoin(self.base_url + "/", link)
        if not url.startswith(self.base_url + "/"):
            raise UnexpectedResponseError("Link header points outside the API base URL")
        return url

    def request(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        idempotent: bool | None = None,
    ) -> Response:
        """Send one operation to an absolute `url` (see `url_for`), retrying per the policy."""
        parts = urlsplit(url)
        log_path = redact_url(parts.path + (f"?{parts.query}" if parts.query else ""))
        if method in WRITE_METHODS and json is not None:
            quirks.refuse_masked_secrets(json, method=method, path=log_path)
        if idempotent is None:
            idempotent = method != "POST"
        retrying = self._retry_idempotent if idempotent else self._retry_post
        attempts = itertools.count(1)
        return retrying(self._attempt, method, url, log_path, json, idempotent, attempts)

    def _attempt(
        self,
        method: str,
        url: str,
        log_path: str,
        json: Any,
        idempotent: bool,
        attempts: Iterator[int],
    ) -> Response:
        attempt = next(attempts)
        started = time.perf_counter()
        left = self._budget_left()
        if left is not None and left <= 0:
            self._record(method, log_path, None, started, attempt, "time_budget_spent")
            raise BudgetSpentError(
                f"the {self.budget_seconds:g}s allowed for this caller's integrator.io calls "
                "were spent; the call was not sent",
                method=method,
                path=log_path,
                retry_after=BUDGET_SPENT_RETRY_AFTER,
            )
        try:
            if self.rate_limiter is not None:
                self.rate_limiter.acquire()
            # After the token, just before sending: a token reserved before a 429 arrived
            # elsewhere must not carry its call into the Retry-After window.
            admission = self._clear_to_send()
        except (RateLimitedError, CircuitOpenError) as error:
            error.method, error.path = method, log_path
            code = "circuit_open" if isinstance(error, CircuitOpenError) else "rate_limit_wait"
            self._record(method, log_path, None, started, attempt, code)
            raise
        started = time.perf_counter()
        timeout = self._timeout_within(self._budget_left())
        try:
            response = self._send(method, url, json, timeout)
        except HTTPError as exc:
            if isinstance(exc, HTTPTimeoutError) and _pair(timeout) != _pair(self.timeout):
                # The caller's budget ended the wait, not integrator.io: no verdict on the
                # platform (a probe's admission lapses after the breaker's probe timeout).
                pass
            else:
                self._breaker_verdict(admission, healthy=False)
                self.last_unwell = f"{method} {log_path}: no answer ({type(exc).__name__})"
            error, code = self._network_error(exc, method, log_path, idempotent)
            self._record(method, log_path, None, started, attempt, code)
            # `from None`: urllib3's exception holds the connection pool (its pending request's
            # headers, Authorization included, in some versions); it must not travel with our
            # error into logs or error trackers.
            raise error from None
        status = response.status
        # Any answer but a 5xx shows the platform is up: a tenant's 4xx is the tenant's.
        self._breaker_verdict(admission, healthy=status < 500)
        if status >= 500:
            self.last_unwell = f"{method} {log_path} -> {status}"
        if 200 <= status < 300:
            try:
                body = jsonlib.loads(response.data) if response.data else None
            except ValueError:  # not JSON, or not UTF-8
                self._record(method, log_path, status, started, attempt, "bad_response")
                if idempotent:
                    raise UnexpectedResponseError(
                        "response is not JSON", method=method, path=log_path, status=status
                    ) from None
                raise OutcomeUnknownError(
                    "the request succeeded but its response is not JSON",
                    method=method,
                    path=log_path,
                    status=status,
                ) from None
            self._record(method, log_path, status, started, attempt, None)
            link = next_link(response.headers.get("Link"))
            return Response(status=status, body=body, next_url=link)
        error = self._http_error(response, method, log_path, idempotent)
        self._record(method, log_path, status, started, attempt, error.code)
        if status == 429 and error.retry_after:
            if self.send_pause is not None:
                self.send_pause.pause(error.retry_after)
            if self.rate_limiter is not None:
                self.rate_limiter.drain(error.retry_after)
        raise error

    def _send(self, method: str, url: str, json: Any, timeout: Timeout) -> urllib3.BaseHTTPResponse:
        """One HTTP exchange, its answer read whole. Raises urllib3's HTTPError (no answer)."""
        connect, read = _pair(timeout)
        body = None if json is None else jsonlib.dumps(json, allow_nan=False).encode()
        return self.pool.request(
            method,
            url,
            body=body,
            headers=self._headers if body is None else self._json_headers,
            timeout=urllib3.Timeout(connect=connect, read=read),
            retries=False,
            redirect=False,
        )

    def _budget_left(self) -> float | None:
        """Seconds left of the time budget (started by the first call), or None without one."""
        if self.budget_seconds is None:
            return None
        now = time.monotonic()
        if self._budget_ends is None:
            self._budget_ends = now + self.budget_seconds
        return self._budget_ends - now

    def _timeout_within(self, left: float | None) -> Timeout:
        """The call's (connect, read) timeout, each cut to what is left of the budget."""
        if left is None:
            return self.timeout
        connect, read = _pair(self.timeout)
        left = max(left, 0.001)
        return (min(connect, left), min(read, left))

    def _clear_to_send(self) -> Admission:
        """Sleep through a deployment-wide Retry-After pause (or refuse with RateLimitedError
        when it is longer than `max_pause_wait`), then take the circuit breaker's admission
        (or fail fast with CircuitOpenError)."""
        while True:
            remaining, admission = self._pause_or_admission()
            if admission is not None:
                break
            if remaining > self.max_pause_wait:
                raise RateLimitedError(
                    f"integrator.io asked every caller to wait {remaining:.2f}s more (Retry-After)",
                    retry_after=remaining,
                )
            # The spread keeps the paused callers from all leaving in the same millisecond.
            time.sleep(remaining * (1 + random.uniform(0, RETRY_AFTER_SPREAD)))
        if not admission.allowed:
            # What this process last saw fail, so that a job that gives up says why.
            seen = f" (last failure seen here: {self.last_unwell})" if self.last_unwell else ""
            raise CircuitOpenError(
                f"integrator.io has been failing{seen}; calls are held until the next probe "
                f"in {admission.retry_after:.1f}s",
                retry_after=admission.retry_after,
            )
        return admission

    def _pause_or_admission(self) -> tuple[float, Admission | None]:
        """(seconds paused, None) while paused, else (0.0, the breaker's admission). Both
        asked of Redis in one round trip when they live there together: every call asks."""
        breaker, pause = self.circuit_breaker, self.send_pause
        if (
            isinstance(breaker, RedisCircuitBreaker)
            and isinstance(pause, RedisSendPause)
            and breaker.uses(pause.redis)
        ):
            return breaker.admit_unless_paused(pause.key)
        remaining = pause.remaining() if pause is not None else 0.0
        if remaining > 0:
            return remaining, None
        return 0.0, breaker.admit() if breaker is not None else ALLOW_UNGUARDED

    def _breaker_verdict(self, admission: Admission, *, healthy: bool) -> None:
        if self.circuit_breaker is None:
            return
        if healthy:
            self.circuit_breaker.record_success(admission)
        else:
            self.circuit_breaker.record_failure(admission)

    def _record(
        self,
        method: str,
        path: str,
        status: int | None,
        started: float,
        attempt: int,
        error_code: str | None,
    ) -> None:
        duration_ms = (time.perf_counter() - started) * 1000
        logger.debug(
            "%s %s -> %s in %.1f ms (attempt %d%s)",
            method,
            path,
            status if status is not None else "no response",
            duration_ms,
            attempt,
            f", {error_code}" if error_code else "",
        )
        if self.on_call is None:
            return
        record = CallRecord(method, path, status, round(duration_ms, 3), attempt, error_code)
        try:
            self.on_call(record)
        except Exception:
            # Observability must never change the outcome of an API call.
            logger.exception("on_call hook failed")

    def _network_error(
        self, exc: HTTPError, method: str, path: str, idempotent: bool
    ) -> tuple[IntegratorError, str]:
        reason = exc.original_error if isinstance(exc, ProxyError) else exc
        detail = scrub(f"{type(reason).__name__}: {reason}", self._secrets)[:300]
        where = {"method": method, "path": path}
        if _never_sent(exc):
            # A refused connection is a NewConnectionError, a ConnectTimeoutError too.
            timed_out = isinstance(reason, ConnectTimeoutError) and not isinstance(
                reason, NewConnectionError
            )
            code = "connect_timeout" if timed_out else "connect_failed"
            return ConnectionFailedError(f"could not connect ({detail})", sent=False, **where), code
        code = "read_timeout" if isinstance(exc, HTTPTimeoutError) else "connection_lost"
        if not idempotent:
            return (
                OutcomeUnknownError(
                    f"the request was sent but no answer was read ({detail}); it may or may "
                    "not have taken effect",
                    **where,
                ),
                code,
            )
        return ConnectionFailedError(f"no answer ({detail})", sent=True, **where), code

    def _http_error(
        self, response: urllib3.BaseHTTPResponse, method: str, path: str, idempotent: bool
    ) -> IntegratorError:
        status = response.status
        try:
            body = jsonlib.loads(response.data) if response.data else None
        except ValueError:
            body = None
        errors = tuple(
            ErrorDetail(code=e.code, message=scrub(e.message, self._secrets), field=e.field)
            for e in quirks.error_details(body)
        )
        message = "; ".join(e.message for e in errors if e.message) or (response.reason or "error")
        kwargs: dict[str, Any] = {
            "method": method,
            "path": path,
            "status": status,
            "errors": errors,
            "retry_after": _retry_after_capped(response.headers.get("Retry-After")),
        }
        message = scrub(message, self._secrets)
        if status == 429:
            return RateLimitedError(message, **kwargs)
        if status >= 500:
            if not idempotent:
                return OutcomeUnknownError(
                    f"{message} (the remote failed after receiving the request; it may or may "
                    "not have taken effect)",
                    **kwargs,
                )
            if status in UNAVAILABLE_STATUSES:
                return UnavailableError(message, **kwargs)
            return ServerError(message, **kwargs)
        if status == 401:
            return AuthenticationError(message, **kwargs)
        if status == 403:
            return PermissionDeniedError(message, **kwargs)
        if status == 404:
            return NotFoundError(message, **kwargs)
        if 400 <= status < 500:
            return ValidationError(message, **kwargs)
        return UnexpectedResponseError(f"unexpected status: {message}", **kwargs)
