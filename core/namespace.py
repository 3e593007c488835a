"""Every Redis key and Celery queue of a deployment lives under its namespace.

Deployments may share one Redis server and database (two `make run` checkouts, staging next
to production): with every key under `<REDIS_KEY_PREFIX><identity>:`, one never takes the
other's tasks, leases or rate-limit tokens. Celery's broker keys (queues, unacked messages)
get the same prefix through kombu's `global_keyprefix` (see config/celery.py).

The one exception is on purpose: deployments that talk to the same integrator.io account may
share its rate-limit bucket (INTEGRATOR_RATE_LIMIT_SHARED=1), since the account's limit is
one budget whoever spends it.
"""

from __future__ import annotations

from django.conf import settings

from core.deployment import deployment_identity


def redis_namespace() -> str:
    """`<REDIS_KEY_PREFIX><identity>:`, the prefix of every key this deployment writes."""
    return f"{settings.REDIS_KEY_PREFIX}{deployment_identity()}:"


def redis_key(name: str) -> str:
    return redis_namespace() + name


def account_rate_limit_prefix() -> str:
    """Where the account-wide bucket lives: in this deployment's namespace, or (with
    INTEGRATOR_RATE_LIMIT_SHARED) outside every deployment's, shared with the others."""
    if settings.INTEGRATOR_RATE_LIMIT_SHARED:
        return f"{settings.REDIS_KEY_PREFIX}integrator:rate"
    return redis_key("integrator:rate")
