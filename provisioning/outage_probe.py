"""Asking integrator.io whether it is back, for the jobs waiting out its outage.

The circuit breaker lets one call through as its probe once INTEGRATOR_BREAKER_PROBE_SECONDS
have passed, but only a call someone makes. The waiting jobs themselves come back only when
their backoff runs out (up to PROVISIONING_RETRY_MAX_SECONDS, 5 min), and a deployment with
no live tenant to sync may make no other call: integrator.io could be back for minutes before
anything noticed. So beat runs this every INTEGRATOR_BREAKER_PROBE_SECONDS: for each account
whose breaker is open and has jobs waiting for it, one cheap read (GET /tokenInfo) through the
breaker. When the probe is due, it is the probe: an answer closes the breaker, and the close
sends the waiting jobs (services/outage_recovery.py); a failure keeps it open another interval.
When it is not due, the breaker refuses the call without sending it.
"""

from __future__ import annotations

import logging

from core.accounts import AccountTokenUnavailable, integrator_accounts_list
from core.integrator_client import build_integrator_client, rate_limit_redis
from core.integrator_outage import integrator_status
from integrator.errors import IntegratorError
from provisioning.models import Job, JobStatus

logger = logging.getLogger(__name__)


def outage_probe_accounts() -> list[str]:
    """Probe each account whose breaker is open (or probing) and that jobs wait for; the
    keys of the accounts asked."""
    connection = rate_limit_redis()
    asked = []
    for account in integrator_accounts_list():
        if not integrator_status(connection, account).degraded:
            continue
        waiting = Job.objects.filter(
            tenant__account=account, status=JobStatus.QUEUED, waiting_since__isnull=False
        )
        if not waiting.exists():
            continue  # the next call anyone makes is the probe; nobody waits for it
        asked.append(account.key)
        try:
            with build_integrator_client(account=account, lane="background") as client:
                client.get_token_info()
        except AccountTokenUnavailable:
            continue  # the jobs fail on it themselves, naming the fix
        except IntegratorError as error:
            logger.info("integrator.io account %s still unavailable: %s", account.key, error)
    return asked
