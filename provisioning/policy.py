"""How hard and how long provisioning tries: attempts, backoff, leases, sweeps.

The values are settings (PROVISIONING_* in config/settings.py, listed in `.env.example`),
checked at start-up; tests shorten them through the same variables.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from retry_policy import retry_delay


@dataclass(frozen=True)
class ProvisioningPolicy:
    # Task runs (claims) allowed per job that end without recording an outcome (a poison job:
    # its worker dies, its lease runs out, it is delivered again) before it fails for good.
    # Runs postponed because integrator.io was unavailable do not count: `retry_window_seconds`
    # bounds those. A job retried from the API or admin gets a fresh budget of both.
    max_attempts: int
    # How long a job keeps waiting out integrator.io being unavailable (5xx, 429, the network,
    # an open circuit), from its first such postponement, before it fails for good.
    retry_window_seconds: float
    # Retry countdown: jittered base * 2**(attempt-1), capped (retry_policy).
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
        """Seconds before the next try (retry_policy): jittered, at least what the remote
        asked for plus up to a fifth, so that jobs paused by one 429 come back scattered."""
        return retry_delay(
            attempt=attempt,
            base=self.retry_base_seconds,
            cap=self.retry_max_seconds,
            retry_after=retry_after,
            spread=0.2,
        )


def load_policy() -> ProvisioningPolicy:
    """The policy from settings (PROVISIONING_*, checked there at start-up)."""
    return ProvisioningPolicy(
        max_attempts=settings.PROVISIONING_MAX_ATTEMPTS,
        retry_window_seconds=settings.PROVISIONING_RETRY_WINDOW_SECONDS,
        retry_base_seconds=settings.PROVISIONING_RETRY_BASE_SECONDS,
        retry_max_seconds=settings.PROVISIONING_RETRY_MAX_SECONDS,
        outcome_settle_seconds=settings.PROVISIONING_OUTCOME_SETTLE_SECONDS,
        lease_seconds=settings.PROVISIONING_LEASE_SECONDS,
        sweep_grace_seconds=settings.PROVISIONING_SWEEP_GRACE_SECONDS,
    )


POLICY = load_policy()
