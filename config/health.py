"""Liveness and readiness probes.

``/healthz`` answers as long as the process can serve a request; orchestrators restart the
process when it stops answering. ``/readyz`` checks each dependency the service needs to do
useful work and answers 503 when any fails, so that a load balancer stops sending traffic; it
also names the deployment (its identity), so that an operator can tell two side by side apart.
"""

import time

import redis
import requests
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core.deployment import deployment_identity

PROBE_TIMEOUT_SECONDS = 2.0


@never_cache
@require_GET
def healthz(request):
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request):
    checks = {
        "database": _check(_database),
        "redis": _check(_redis),
        "integrator_api": _check(_integrator_api),
    }
    ready = all(check["status"] == "ok" for check in checks.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "deployment": _deployment(), "checks": checks},
        status=200 if ready else 503,
    )


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
    response = requests.get(
        f"{settings.INTEGRATOR_API_URL.rstrip('/')}/tokenInfo",
        headers={"Authorization": f"Bearer {settings.INTEGRATOR_API_TOKEN}"},
        timeout=PROBE_TIMEOUT_SECONDS,
    )
    if response.status_code == 401:
        raise ProbeFailed("integrator.io rejected INTEGRATOR_API_TOKEN (401)")
    if response.status_code != 200:
        raise ProbeFailed(f"integrator.io answered HTTP {response.status_code}")
