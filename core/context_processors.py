"""Template context shared by the admin pages."""

from django.utils.functional import SimpleLazyObject

from core.deployment import deployment_identity
from core.integrator_client import rate_limit_redis
from core.integrator_outage import integrator_accounts_status, integrator_status_overall


def deployment(request) -> dict:
    # Lazy: only pages that show it (the admin's header) read it.
    return {"deployment_identity": SimpleLazyObject(deployment_identity)}


def integrator_availability(request) -> dict:
    # Lazy: read from Redis only by pages that show it (the admin's banner, on every page).
    # The default account's breaker, or the worst other account's while the default is well.
    return {
        "integrator_status": SimpleLazyObject(
            lambda: integrator_status_overall(integrator_accounts_status(rate_limit_redis()))
        )
    }
