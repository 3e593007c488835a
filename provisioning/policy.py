"""How hard and how long provisioning tries: attempts, backoff, leases, sweeps.

Read from the environment once (the variables are listed in `.env.example`); a bad value
stops start-up with a message. Tests shorten these through the same variables.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import environ
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

env = environ.Env()


@dataclass(frozen=True)
class ProvisioningPolicy:
    # Task runs (claims) allowed per job before it fails for good; a job retried from the
    # API or admin gets a fresh budget.
    max_attempts: int
    # Retry countdown: full jitter over base * 2**(attempt-1), capped.
    retry_base_seconds: float
    retry_max_seconds: float
    # A clone whose answer was lost may still land after our timeout. Before looking it up,
    # wait at least this long so that a slow request has finished.
    outcome_settle_seconds: float
    # A worker owns a job this long past its latest sign of life (each API call attempt and
    # each step renews it). It must exceed the longest single call, or a second worker could
    # take over while the first one's POST is still in flight.
    lease_seconds: float
    # A queued job still unclaimed this long after it was due lost its message.
    sweep_grace_seconds: float

    def retry_countdown(self, *, attempt: int, retry_after: float | None = None) -> float:
        """Seconds before the next try: full jitter, at least what the remote asked for."""
        ceiling = min(self.retry_max_seconds, self.retry_base_seconds * 2 ** max(0, attempt - 1))
        countdown = random.uniform(ceiling / 2, ceiling)
        if retry_after:
            countdown = max(countdown, retry_after * random.uniform(1.0, 1.2))
        return min(countdown, self.retry_max_seconds)


def load_policy() -> ProvisioningPolicy:
    policy = ProvisioningPolicy(
        max_attempts=env.int("PROVISIONING_MAX_ATTEMPTS", default=8),
        retry_base_seconds=env.float("PROVISIONING_RETRY_BASE_SECONDS", default=2.0),
        retry_max_seconds=env.float("PROVISIONING_RETRY_MAX_SECONDS", default=300.0),
        outcome_settle_seconds=env.float("PROVISIONING_OUTCOME_SETTLE_SECONDS", default=30.0),
        lease_seconds=env.float("PROVISIONING_LEASE_SECONDS", default=180.0),
        sweep_grace_seconds=env.float("PROVISIONING_SWEEP_GRACE_SECONDS", default=120.0),
    )
    if policy.max_attempts < 1:
        raise ImproperlyConfigured("PROVISIONING_MAX_ATTEMPTS must be at least 1.")
    if not 0 < policy.retry_base_seconds <= policy.retry_max_seconds:
        raise ImproperlyConfigured(
            "PROVISIONING_RETRY_BASE_SECONDS must be positive and at most "
            "PROVISIONING_RETRY_MAX_SECONDS."
        )
    # Redis redelivers a message held longer than its visibility timeout; a countdown beyond
    # the one the timeout was sized for would be run twice.
    if policy.retry_max_seconds > settings.CELERY_MAX_RETRY_COUNTDOWN:
        raise ImproperlyConfigured(
            "PROVISIONING_RETRY_MAX_SECONDS must not exceed CELERY_MAX_RETRY_COUNTDOWN "
            f"({settings.CELERY_MAX_RETRY_COUNTDOWN})."
        )
    if policy.outcome_settle_seconds > policy.retry_max_seconds:
        raise ImproperlyConfigured(
            "PROVISIONING_OUTCOME_SETTLE_SECONDS must not exceed PROVISIONING_RETRY_MAX_SECONDS."
        )
    if policy.lease_seconds <= 2 * settings.INTEGRATOR_TIMEOUT_SECONDS:
        raise ImproperlyConfigured(
            "PROVISIONING_LEASE_SECONDS must be more than twice INTEGRATOR_TIMEOUT_SECONDS "
            f"({settings.INTEGRATOR_TIMEOUT_SECONDS}): a lease shorter than one API call lets "
            "a second worker take a job whose call is still in flight."
        )
    if policy.sweep_grace_seconds <= 0:
        raise ImproperlyConfigured("PROVISIONING_SWEEP_GRACE_SECONDS must be positive.")
    return policy


POLICY = load_policy()
