"""Asking integrator.io whether it is back, for every account whose breaker is open.

The circuit breaker lets one call through as its probe once INTEGRATOR_BREAKER_PROBE_SECONDS
have passed, but only a call someone makes. A quiet deployment (no job waiting, no live
tenant to sync) may make no other call for a long time: its breaker would stay open, and the
admin banner, /readyz, the API and the `integrator.recovered` webhook would go on saying
integrator.io is unavailable long after it came back; the jobs waiting out the outage would
come back only when their backoff ran out (up to PROVISIONING_RETRY_MAX_SECONDS, 5 min). So
beat runs this every INTEGRATOR_BREAKER_PROBE_SECONDS: for each account whose breaker is open
(or probing), whether or not jobs wait for it, one cheap read (GET /tokenInfo) through the
breaker. When the probe is due, it is the probe: an answer closes the breaker, and the close
records `integrator.recovered` and sends the waiting jobs (services/outage_recovery.py); a
failure keeps it open another interval. When it is not due, the breaker refuses the call
without sending it. So an open account costs at most one call per interval.
"""

from __future__ import annotations

import logging

from core.accounts import AccountTokenUnavailable, integrator_accounts_list
from core.integrator_client import build_integrator_client, rate_limit_redis
from core.integrator_outage import integrator_status
from integrator.errors import IntegratorError

logger = logging.getLogger(__name__)


def outage_probe_accounts() -> list[str]:
    """Probe each account whose breaker is open (or probing); the keys of the accounts
    asked."""
    connection = rate_limit_redis()
    asked = []
    for account in integrator_accounts_list():
        if not integrator_status(connection, account).degraded:
            continue
        asked.append(account.key)
        try:
            with build_integrator_client(account=account, lane="background") as client:
                client.get_token_info()
        except AccountTokenUnavailable:
            continue  # nothing to probe with; its jobs fail on it, naming the fix
        except IntegratorError as error:
            logger.info("integrator.io account %s still unavailable: %s", account.key, error)
    return asked
