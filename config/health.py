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
interval for the whole deployment); ``integrator`` shows the breaker's state. A token of
the default account that integrator.io refuses (401) stays unready: that token is this
deployment's configuration (INTEGRATOR_API_TOKEN), and a rollout should stop on it. Every
integrator.io account's token is asked, each account whose breaker is closed, all at once. A
refused token of another account is *degraded*: that token was typed into the admin at run
time, not deployed, and it is the same on every pod, so taking every pod out of rotation
would stop the other accounts' tenants, the customer pages and the very admin page where the
token is corrected, for one account's mistake. What integrator.io says of each token is kept
(core.account_token_checks) for GET /api/v1/integrator/accounts and the admin, which call
nothing themselves.

The probe answers anyone who reaches the service, and its calls to integrator.io go around
the rate limiter (it must answer within the probe's timeout, never queue behind jobs). So what
integrator.io answered for an account is reused, in this process, for
READYZ_INTEGRATOR_CHECK_SECONDS: each process asks at most once per interval and account,
however often the probe is polled (every pod's kubelet, or anyone repeating the request),
rather than spending the account's API budget, which provisioning and the customers' forms
share, once per request. A new token or API URL is asked at once: the answer is kept by both.
"""

import hashlib
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import redis
import requests
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from core.account_token_checks import ACCEPTED, REFUSED, account_token_check_record
from core.accounts import (
    AccountTokenUnavailable,
    account_api_url,
    account_token,
    integrator_accounts_list,
)
from core.deployment import deployment_identity
from core.integrator_client import rate_limit_redis
from core.integrator_outage import (
    AccountStatus,
    integrator_accounts_status,
    integrator_status_overall,
)

PROBE_TIMEOUT_SECONDS = 2.0


# GET and HEAD: uptime monitors and some load balancers check with HEAD, and read a 405 as down.
@never_cache
@require_safe
def healthz(request):
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def readyz(request):
    try:
        accounts = integrator_accounts_status(rate_limit_redis())
    except Exception:  # the database check below says why
        accounts = []
    breaker = integrator_status_overall(accounts)
    checks = {
        "database": _check(_database),
        "redis": _check(_redis),
        "integrator_api": _integrator_check(accounts),
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


def _integrator_check(accounts: list[AccountStatus]) -> dict:
    """integrator.io failing is `degraded` (see the module docstring); only the default
    account's token refused is an `error` (another account's is `degraded`). Each account
    whose breaker is closed has its token asked, all at once (the check takes as long as the
    slowest account, at most the probe's timeout); an open breaker is reported as it is,
    without a call. The message names each failing account."""
    started = time.perf_counter()
    problems = [
        f"{_label(account.key, account.is_default)}: circuit breaker {account.status.state}"
        for account in accounts
        if account.status.degraded
    ]
    targets = _probe_targets({a.key for a in accounts if not a.status.degraded}, bool(accounts))
    refused = False
    if targets:
        outcomes = _integrator_answers([target[2:] for target in targets])
        for (account_key, is_default, *_), (failure, token_result, asked) in zip(
            targets, outcomes, strict=True
        ):
            if asked and account_key is not None and token_result is not None:
                # Kept for GET /api/v1/integrator/accounts and the admin, which call nothing.
                account_token_check_record(
                    rate_limit_redis(), account_key=account_key, result=token_result
                )
            if failure is not None:
                refused = refused or (is_default and token_result == REFUSED)
                problems.append(failure)
    ms = _since(started)
    if not problems:
        return {"status": "ok", "ms": ms}
    return {"status": "error" if refused else "degraded", "error": "; ".join(problems), "ms": ms}


# (label, API URL, token's digest) -> (when asked, on the monotonic clock; failure; token
# result): integrator.io's last answers, reused for READYZ_INTEGRATOR_CHECK_SECONDS.
_answers: dict[tuple[str, str, str], tuple[float, str | None, str | None]] = {}
_answers_lock = threading.Lock()


def _integrator_answers(
    targets: list[tuple[str, str, str]],
) -> list[tuple[str | None, str | None, bool]]:
    """(failure, token result, whether integrator.io was asked now) of each (label, API URL,
    token): a fresh enough answer of this process's is reused, the others are asked all at
    once."""
    ttl = settings.READYZ_INTEGRATOR_CHECK_SECONDS
    now = time.monotonic()
    keys = [
        (label, api_url, hashlib.sha256(token.encode()).hexdigest())
        for label, api_url, token in targets
    ]
    with _answers_lock:
        kept = {key: _answers.get(key) for key in keys}
    stale = [
        (key, target)
        for key, target in zip(keys, targets, strict=True)
        if ttl <= 0 or kept[key] is None or now - kept[key][0] >= ttl
    ]
    asked: dict[tuple[str, str, str], tuple[str | None, str | None]] = {}
    if stale:
        with ThreadPoolExecutor(max_workers=len(stale)) as pool:
            answers = list(pool.map(_integrator_api, [target for _, target in stale]))
        asked = {key: answer for (key, _), answer in zip(stale, answers, strict=True)}
        with _answers_lock:
            for key in [key for key, (at, *_) in _answers.items() if now - at >= ttl]:
                del _answers[key]  # old tokens and URLs are not kept for ever
            if ttl > 0:
                _answers.update({key: (now, *answer) for key, answer in asked.items()})
    return [
        (*asked[key], True) if key in asked else (*kept[key][1:], False)  # type: ignore[index]
        for key in keys
    ]


def _label(key: str, is_default: bool) -> str:
    return "the default account" if is_default else f"account {key!r}"


def _probe_targets(keys: set[str], listed: bool) -> list[tuple[str | None, bool, str, str, str]]:
    """(account key, whether it is the default account, label, API URL, token; empty when
    there is none to use) of the accounts
    to ask, read here, in the request's thread: the probes' threads touch no database. When
    the database could not list the accounts, the default one as the settings give it (with
    no key: what it answers is not kept)."""
    if not listed:
        return [
            (
                None,
                True,
                _label("", True),
                settings.INTEGRATOR_API_URL,
                settings.INTEGRATOR_API_TOKEN,
            )
        ]
    targets = []
    for account in integrator_accounts_list():
        if account.key not in keys:
            continue
        try:
            token = account_token(account)
        except AccountTokenUnavailable:
            token = ""
        targets.append(
            (
                account.key,
                account.is_default,
                _label(account.key, account.is_default),
                account_api_url(account),
                token,
            )
        )
    return targets


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
    return f"{type(exc).__module__}.{type(exc).__name__}"


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


def _integrator_api(target: tuple[str, str, str]) -> tuple[str | None, str | None]:
    """Why one account's token does not work at integrator.io (None when it does), and what
    integrator.io said of the token: accepted, refused, or None when it said nothing of it."""
    label, api_url, token = target
    if not token:
        return f"{label}: no API token that can be read", None
    try:
        response = requests.get(
            f"{api_url.rstrip('/')}/tokenInfo",
            headers={"Authorization": f"Bearer {token}"},
            timeout=PROBE_TIMEOUT_SECONDS,
        )
    except Exception as exc:  # each account reports its own failure; the view must answer
        return f"{label}: {_describe(exc)}", None
    if response.status_code == 401:
        return f"integrator.io rejected the API token of {label} (401)", REFUSED
    if response.status_code != 200:
        return f"{label}: integrator.io answered HTTP {response.status_code}", None
    return None, ACCEPTED
