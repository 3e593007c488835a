"""The integrator.io client as the service configures it, for one integrator.io account
(core.accounts: its region's URL, its token, its rate limit; a tenant's is `tenant.account`).

Every client built here shares one Redis token bucket per API token, so that all web and
worker processes of the deployment (or, with INTEGRATOR_RATE_LIMIT_SHARED, of every deployment
on the account) together stay under the account's rate limit; two accounts never share one.
Each process keeps one Redis connection pool and reuses it for every client it builds.

An *interactive* client serves a caller who is waiting (an API request, a form submission): it
waits for the rate limit and retries for at most INTEGRATOR_REQUEST_WAIT_SECONDS in all, its
calls together take at most INTEGRATOR_REQUEST_BUDGET_SECONDS (build one per request), and
then it gives up with the error, so that the caller hears at once when to come back (429 or 503
with Retry-After) instead of waiting for seconds on end. Workers keep the patient defaults.

Every client also shares its account's circuit breaker and Retry-After pause
(core.integrator_outage), and draws from the bucket in a priority lane: `interactive` (a
person waits; the whole bucket), `jobs` (provisioning and rollouts, the default; leave
INTEGRATOR_RATE_LIMIT_JOBS_FLOOR of the burst) or `background` (run sync, connection checks,
drift, orphan scans; leave INTEGRATOR_RATE_LIMIT_BACKGROUND_FLOOR).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterable
from typing import Literal
from urllib.parse import urlsplit

import redis
from django.conf import settings

from core import metrics, tracing
from core.account_token_checks import REFUSED, account_token_check_record
from core.accounts import account_api_url, account_rate_limit, account_token, account_token_fix
from core.errors import (
    ApplicationError,
    IntegratorRateLimited,
    IntegratorRefused,
    IntegratorUnavailable,
)
from core.integrator_outage import integrator_breaker, integrator_send_pause
from core.models import IntegratorAccount
from core.namespace import account_rate_limit_prefix
from core.redaction import secrets_mask
from integrator import errors as remote
from integrator.client import IntegratorClient
from integrator.rate_limit import DEFAULT_MAX_WAIT, RateLimiter, RedisTokenBucket
from integrator.transport import CallRecord

# When integrator.io says nothing about when to come back.
DEFAULT_RETRY_AFTER_SECONDS = 5

# A courtesy limiter must never be the reason a request hangs: short Redis timeouts, and the
# bucket runs open when Redis is down (see integrator.rate_limit).
_REDIS_TIMEOUT_SECONDS = 1.0

_pool: redis.ConnectionPool | None = None
_pool_url: str | None = None
_pool_lock = threading.Lock()


def rate_limit_redis() -> redis.Redis:
    """This process's Redis client for rate-limit buckets (one pool, reused)."""
    global _pool, _pool_url
    with _pool_lock:
        if _pool is None or _pool_url != settings.REDIS_URL:
            _pool = redis.ConnectionPool.from_url(
                settings.REDIS_URL,
                socket_timeout=_REDIS_TIMEOUT_SECONDS,
                socket_connect_timeout=_REDIS_TIMEOUT_SECONDS,
            )
            _pool_url = settings.REDIS_URL
        return redis.Redis(connection_pool=_pool)


def wait_bound(*, interactive: bool) -> float:
    """The longest a client waits for the rate limit, and for retries, in all."""
    return settings.INTEGRATOR_REQUEST_WAIT_SECONDS if interactive else DEFAULT_MAX_WAIT


def waiting_caller_limits(*, interactive: bool) -> dict:
    """IntegratorClient options for a caller who waits: retries within
    INTEGRATOR_REQUEST_WAIT_SECONDS, all its calls within INTEGRATOR_REQUEST_BUDGET_SECONDS.
    None for a worker: the client's patient defaults."""
    if not interactive:
        return {}
    return {
        "max_retry_seconds": settings.INTEGRATOR_REQUEST_WAIT_SECONDS,
        "budget_seconds": settings.INTEGRATOR_REQUEST_BUDGET_SECONDS,
    }


Lane = Literal["interactive", "jobs", "background"]


def lane_floor(lane: Lane, *, burst: int | None = None) -> float:
    """The tokens a lane's callers leave in the shared bucket (see integrator.rate_limit) of
    `burst` tokens (default INTEGRATOR_RATE_LIMIT_BURST)."""
    share = {
        "interactive": 0.0,
        "jobs": settings.INTEGRATOR_RATE_LIMIT_JOBS_FLOOR,
        "background": settings.INTEGRATOR_RATE_LIMIT_BACKGROUND_FLOOR,
    }[lane]
    return share * (burst or settings.INTEGRATOR_RATE_LIMIT_BURST)


def observed_calls(
    lane: Lane,
    on_call: Callable[[CallRecord], None] | None = None,
    *,
    account: IntegratorAccount,
) -> Callable[[CallRecord], None]:
    """The client's `on_call` hook with the deployment's observers in front of the caller's:
    the call metrics (core.metrics) and, when tracing is on, a span per HTTP attempt
    (core.tracing). The plain-Python client reports every attempt through this one hook, so it
    needs to know nothing of either. A path is grouped against `account`'s own API URL, which
    need not be the default account's (`/eu/v1` in the sandbox, an account's own URL)."""
    base_path = urlsplit(account_api_url(account)).path.rstrip("/")

    def observe(record: CallRecord) -> None:
        group = metrics.integrator_endpoint_group(record.path, base_path=base_path)
        metrics.record_safely(_count_call, record, account=account.key, group=group, lane=lane)
        tracing.integrator_call_span(record, group=group, lane=lane)
        if record.status == 401:
            # integrator.io refused the account's token: the accounts list and the admin say so.
            metrics.record_safely(
                account_token_check_record,
                rate_limit_redis(),
                account_key=account.key,
                result=REFUSED,
            )
        if on_call is not None:
            on_call(record)

    return observe


def _count_call(record: CallRecord, *, account: str, group: str, lane: str) -> None:
    status = metrics.status_class(record.status, record.error_code)
    metrics.integrator_call_series_start_at_zero(account, group, record.method, lane)
    metrics.INTEGRATOR_CALLS.labels(account, group, record.method, status, lane).inc()
    if status != "not_sent":
        metrics.INTEGRATOR_CALL_SECONDS.labels(group, lane).observe(record.duration_ms / 1000)


class MeasuredLimiter:
    """A rate limiter whose waits are observed per lane (the limiter returns what it slept)."""

    def __init__(self, limiter: RateLimiter, *, lane: Lane) -> None:
        self.limiter = limiter
        self._wait = metrics.INTEGRATOR_LIMITER_WAIT_SECONDS.labels(lane)

    def acquire(self) -> float:
        waited = self.limiter.acquire()
        metrics.record_safely(self._wait.observe, waited or 0.0)
        return waited

    def drain(self, seconds: float) -> None:
        self.limiter.drain(seconds)


def build_integrator_client(
    *,
    account: IntegratorAccount,
    on_call: Callable[[CallRecord], None] | None = None,
    interactive: bool = False,
    lane: Lane | None = None,
) -> IntegratorClient:
    """A client for `account` (a tenant's is `tenant.account`, a template's
    `template.account`); close it (or use `with`) when done. `interactive`: a caller is
    waiting (see the module docstring), and the interactive lane; otherwise `lane` (default
    `jobs`). Raises core.accounts.AccountTokenUnavailable when the account has no token."""
    if interactive:
        lane = "interactive"
    token = account_token(account)
    burst, per_second = account_rate_limit(account)
    connection = rate_limit_redis()
    wait = wait_bound(interactive=interactive)
    limiter = RedisTokenBucket(
        connection,
        token=token,
        key_prefix=account_rate_limit_prefix(),
        burst=burst,
        per_second=per_second,
        max_wait=wait,
        floor=lane_floor(lane or "jobs", burst=burst),
    )
    return IntegratorClient(
        account_api_url(account),
        token,
        timeout=settings.INTEGRATOR_TIMEOUT_SECONDS,
        trust_env=settings.INTEGRATOR_TRUST_ENV,
        rate_limiter=MeasuredLimiter(limiter, lane=lane or "jobs"),
        on_call=observed_calls(lane or "jobs", on_call, account=account),
        circuit_breaker=integrator_breaker(connection, account),
        send_pause=integrator_send_pause(connection, token=token),
        max_pause_wait=wait,
        **waiting_caller_limits(interactive=interactive),
    )


class AccountClients:
    """Clients made on demand, one per account, closed together: for work that walks tenants
    of several accounts (a drift tick, a run-sync batch). Options as build_integrator_client.

    >>> with AccountClients(lane="background") as clients:
    ...     client = clients.of(tenant.account)
    """

    def __init__(self, **options) -> None:
        self.options = options
        self._clients: dict[int, IntegratorClient] = {}

    def of(self, account: IntegratorAccount) -> IntegratorClient:
        client = self._clients.get(account.pk)
        if client is None:
            client = self._clients[account.pk] = build_integrator_client(
                account=account, **self.options
            )
        return client

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()

    def __enter__(self) -> AccountClients:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def remote_error_for_caller(
    error: remote.IntegratorError,
    *,
    not_done: str,
    secrets: Iterable[str] = (),
    account: IntegratorAccount | None = None,
) -> ApplicationError:
    """The API's error for integrator.io failing while a caller waits: 429 `rate_limited`
    when it limits our calls, 503 `integrator_token_refused` when it refuses our own token,
    422 `integrator_refused` when it answered and refused the request (a 400, 409, 422:
    retrying the same request gets the same answer), otherwise 503 `integrator_unavailable`;
    each with Retry-After where waiting helps.

    `not_done` says in words what did not happen ("the flow was not started"); `account`, the
    integrator.io account called, is named when it refused our token, with how an operator
    replaces that token (with several accounts, "the account's token" is no help), and when it
    is not answering. What
    integrator.io answered goes to the error's `remote`, with `secrets` (values the request
    carried) removed. Callers handle the outcomes that mean more for them first (a lost
    answer to a create, a 404, a refused body).
    """
    message = secrets_mask(error.message, secrets)
    answered = {"status": error.status, "message": message}
    if isinstance(error, remote.RateLimitedError):
        wait = max(1, math.ceil(error.retry_after or 1))
        # Each account has its own rate (and integrator.io's 429s are per account): say which
        # one is at its limit, as for an outage below.
        calls = "calls" if account is None else f"calls to integrator.io account {account.key!r}"
        return IntegratorRateLimited(
            f"integrator.io is limiting this service's {calls} right now, so {not_done}. "
            f"Retry after {wait} seconds.",
            retry_after=wait,
            # Our own limiter's refusal is no answer of integrator.io's.
            remote=answered if error.status is not None else None,
        )
    if isinstance(error, remote.AuthenticationError) and account is not None:
        return IntegratorUnavailable(
            f"integrator.io refused this service's API token of integrator.io account "
            f"{account.key!r}, so {not_done}. An operator must {account_token_fix(account)}.",
            code="integrator_token_refused",
            remote=answered,
        )
    if isinstance(error, remote.AuthenticationError):
        return IntegratorUnavailable(
            f"integrator.io refused this service's own API token, so {not_done}. An operator "
            "must fix the integrator.io account's token (INTEGRATOR_API_TOKEN for the default "
            "account, the admin for the others).",
            code="integrator_token_refused",
            remote=answered,
        )
    if isinstance(error, remote.ValidationError):
        return IntegratorRefused(
            f"integrator.io refused the request, so {not_done}; its answer is in `error.remote`.",
            remote=answered,
        )
    wait = max(1, math.ceil(error.retry_after or DEFAULT_RETRY_AFTER_SECONDS))
    # With several accounts, one may be down while the others answer: say which.
    who = "integrator.io" if account is None else f"integrator.io account {account.key!r}"
    return IntegratorUnavailable(
        f"{who} is not answering right now, so {not_done}. Retry after {wait} seconds.",
        retry_after=wait,
        remote=answered,
    )
