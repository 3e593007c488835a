"""What provisioning does when another part of the service reports a change."""

from __future__ import annotations

from django.db import transaction

from core.integrator_outage import RECOVERED
from provisioning.services import jobs_resume_after_outage


def jobs_resume_on_recovery(sender, *, change, account=None, unseen=False, **kwargs) -> None:
    """An account's circuit breaker closed: its jobs waiting for integrator.io go now, not at
    their backoff's end. Once the caller's transaction (if any) commits, in a transaction of
    its own: the breaker's close is not the caller's to take back, and the job rows are not
    held locked while the caller goes on. An end no breaker's write was seen making (`unseen`:
    the webhook sweep's, Redis having lost the breaker's state and the messages it held) also
    sends the waiting jobs that fell due meanwhile."""
    if change != RECOVERED or not account:
        return
    transaction.on_commit(
        lambda: jobs_resume_after_outage(account_key=account, fell_due=unseen), robust=True
    )
