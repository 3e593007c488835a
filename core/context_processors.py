"""Template context shared by the admin pages."""

from django.utils.functional import SimpleLazyObject

from core.deployment import deployment_identity
from core.integrator_client import rate_limit_redis
from core.integrator_outage import integrator_accounts_status


def deployment(request) -> dict:
    # Lazy: only pages that show it (the admin's header) read it.
    return {"deployment_identity": SimpleLazyObject(deployment_identity)}


def integrator_availability(request) -> dict:
    # Lazy: read from Redis only by pages that show it (the admin's banner, on every page).
    # Each failing account, named when there are several: one account failing says nothing
    # of the others' calls.
    def outages() -> dict:
        accounts = integrator_accounts_status(rate_limit_redis())
        return {
            "accounts": [account for account in accounts if account.status.degraded],
            "named": len(accounts) > 1,
        }

    return {"integrator_outages": SimpleLazyObject(outages)}
