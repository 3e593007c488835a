"""Liveness and readiness probes.

``/healthz`` answers as long as the process can serve a request; orchestrators restart the
process when it stops answering. ``/readyz`` checks each dependency the service needs to do
useful work and answers 503 when any fails, so that a load balancer stops sending traffic; it
also names the deployment (its identity), so that an operator can tell two side by side apart.

integrator.io being down or failing is *degraded*, not unready: ``/readyz`` answers 200 with
``"status": "degraded"``. Every pod would fail the same way, so taking them out of rotation
would only add our own outage (tenant reads, the status page, the admin) to integrator.io's;
the calls that need it answer 503 with Retry-After on their own. While the circuit breaker is
open the probe does not call integrator.io at all (the breaker's probe does that, once per
interval for the whole deployment); ``integrator`` shows the breaker's state. A token that
integrator.io refuses (401) stays unready: that is this deployment's configuration, and a
rollout should stop on it.
"""

import time

import redis
import requests
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core.accounts import account_api_url, account_token, integrator_account_default
from core.deployment import deployment_identity
from core.integrator_client import rate_limit_redis
from core.integrator_outage import (
    IntegratorStatus,
    integrator_accounts_status,
    integrator_status_overall,
)

PROBE_TIMEOUT_SECONDS = 2.0


@never_cache
@require_GET
def healthz(request):
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request):
    try:
        accounts = integrator_accounts_status(rate_limit_redis())
    except Exception:  # the database check below says why
        accounts = []
    breaker = integrator_status_overall(accounts)
    checks = {
        "database": _check(_database),
        "redis": _check(_redis),
        "integrator_api": _integrator_check(breaker),
    }
    ready = all(check["status"] != "error" for check in checks.values())
    degraded = any(check["status"] == "degraded" for check in checks.values())
    return JsonResponse(
        {
            "status": "unavailable" if not ready else "degraded" if degraded else "ok",
            "deployment": _deployment(),
            "checks": checks,
            "integrator": breaker.as_dict(),
            # Each integrator.io account's breaker: one account (or region) failing is its
            # own outage; `integrator` above is the default account's, or the worst other.
            "integrator_accounts": [account.as_dict() for account in accounts],
        },
        status=200 if ready else 503,
    )


def _integrator_check(breaker: IntegratorStatus) -> dict:
    """integrator.io failing is `degraded` (see the module docstring); only our token being
    refused is an `error`."""
    if breaker.degraded:
        return {"status": "degraded", "error": f"circuit breaker {breaker.state}", "ms": 0}
    check = _check(_integrator_api)
    if check["status"] == "error" and not check["error"].endswith("(401)"):
        check["status"] = "degraded"
    return check


def _deployment() -> str | None:
    """This deployment's identity (see core.models), or None if the database cannot say."""
    try:
        return deployment_identity()
    except Exception:  # the database check above reports why
        return None


def _check(probe) -> dict:
    started = time.perf_counter()
    try:
        probe()
    except Exception as exc:  # each probe reports its own failure; the view must still answer
        return {"status": "error", "error": _describe(exc), "ms": _since(started)}
    return {"status": "ok", "ms": _since(started)}


def _since(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)


def _describe(exc: Exception) -> str:
    # Class names only: messages of driver errors can carry hosts, users or DSNs.
    if isinstance(exc, ProbeFailed):
        return str(exc)
    return f"{type(exc).__module__}.{type(exc).__name__}"


class ProbeFailed(Exception):
    pass


def _database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _redis():
    client = redis.Redis.from_url(
        settings.REDIS_URL,
        socket_connect_timeout=PROBE_TIMEOUT_SECONDS,
        socket_timeout=PROBE_TIMEOUT_SECONDS,
    )
    try:
        client.ping()
    finally:
        client.close()


def _integrator_api():
    """The default account's token, asked of integrator.io (the others show their breaker:
    one probe per account would make the probe as slow as the slowest region)."""
    account = integrator_account_default()
    response = requests.get(
        f"{account_api_url(account).rstrip('/')}/tokenInfo",
        headers={"Authorization": f"Bearer {account_token(account)}"},
        timeout=PROBE_TIMEOUT_SECONDS,
    )
    if response.status_code == 401:
        raise ProbeFailed("integrator.io rejected the default account's API token (401)")
    if response.status_code != 200:
        raise ProbeFailed(f"integrator.io answered HTTP {response.status_code}")
