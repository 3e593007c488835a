"""Outage episodes whose `integrator.recovered` (or `integrator.unavailable`) the breaker
could not send.

The breaker lives in Redis. When Redis restarts without persistence while an account's
breaker is open, the state that knew the episode is gone: the breaker starts again closed,
with no episode, and no transition to closed ever happens, so the host app that was told
`integrator.unavailable` would never hear `integrator.recovered`, and the jobs waiting out
the outage would wait for their own backoff. The webhook sweep (every 30 s) closes such
episodes: one announced unavailable, not recovered, and no longer the episode the account's
breaker holds open (or half-open) is over, whatever Redis forgot. It announces the end as the
breaker's close does (core.integrator_outage.integrator_episode_end_announce), so the same
listeners act: `integrator.recovered` is recorded, keyed like the breaker's own events (each
episode still yields one), and provisioning resumes the waiting jobs (each once).

The other way round too: an episode the breaker holds open whose `integrator.unavailable` is
missing (the call that opened the breaker ran in its caller's transaction, which rolled back
with the event) is announced by the sweep.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import redis
from django.utils import timezone

from core.integrator_client import rate_limit_redis
from core.integrator_outage import integrator_accounts_status, integrator_episode_end_announce
from core.models import IntegratorAccount
from webhooks.models import Event, EventType
from webhooks.services import integrator_unavailable_ensure

logger = logging.getLogger(__name__)

# Older episodes are left alone: their events are past the delivery log's interest.
LOOKBACK = timedelta(days=7)


def integrator_episodes_reconcile() -> int:
    """Record `integrator.recovered` for each forgotten episode; how many were."""
    try:
        statuses = integrator_accounts_status(rate_limit_redis())
    except redis.RedisError:
        return 0
    current = {}
    for account in statuses:
        if account.status.state in ("unknown", "disabled"):
            # Redis cannot say (or there is no breaker): nothing is known to be over.
            current[account.key] = None
        else:
            current[account.key] = account.status.episode or ""
        if account.status.degraded and account.status.episode:
            _announce_if_unannounced(account)
    unavailable = Event.objects.filter(
        event_type=EventType.INTEGRATOR_UNAVAILABLE,
        created_at__gte=timezone.now() - LOOKBACK,
    ).values_list("data", flat=True)
    over = {}  # recovered's dedupe key -> (account, episode), for episodes no breaker holds
    gone = _accounts_gone(
        {(data.get("account") or {}).get("key") for data in unavailable} - set(current)
    )
    for data in unavailable:
        account_key = (data.get("account") or {}).get("key")
        episode = data.get("episode")
        # An account deleted since (from a shell, or before the admin ended its episode with
        # it): no call will go to it again, so its episode is over.
        held = "" if account_key in gone else current.get(account_key)
        if episode and held is not None and held != episode:
            over[f"{EventType.INTEGRATOR_RECOVERED}:{account_key}:{episode}"] = (
                account_key,
                episode,
            )
    # Every sweep (30 s) reads the week's episodes: their recovered events in one query, not
    # one query each.
    announced = set(Event.objects.filter(dedupe_key__in=over).values_list("dedupe_key", flat=True))
    closed = 0
    for recovered_key, (account_key, episode) in over.items():
        if recovered_key in announced:
            continue
        # As the breaker's close would: webhooks records `integrator.recovered` (keyed by the
        # episode, so a second sweep records nothing), provisioning sends the jobs that waited.
        integrator_episode_end_announce(account_key=account_key, episode=episode, at=timezone.now())
        logger.warning(
            "integrator.io episode %s of account %s ended unseen (the breaker's state was "
            "lost): announced integrator.recovered, its waiting jobs resumed",
            episode,
            account_key,
        )
        closed += 1
    return closed


def _accounts_gone(keys: set) -> set[str]:
    """Of these account keys (named by outage events, listed by no breaker status), those no
    account has now."""
    keys = {key for key in keys if key}
    if not keys:
        return set()
    return keys - set(IntegratorAccount.objects.filter(key__in=keys).values_list("key", flat=True))


def _announce_if_unannounced(account) -> None:
    """An episode held open whose `integrator.unavailable` is missing: the transaction of the
    call that opened the breaker rolled back, and the event with it. Recorded now."""
    if integrator_unavailable_ensure(
        episode=account.status.episode,
        failures=account.status.failures,
        account_key=account.key,
    ):
        logger.warning(
            "integrator.io episode %s of account %s was not announced (the transaction of the "
            "call that opened the breaker rolled back): recorded integrator.unavailable",
            account.status.episode,
            account.key,
        )
