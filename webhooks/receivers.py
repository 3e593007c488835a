"""What webhooks records when another app reports a change (see tenants.signals)."""

from webhooks.services import integrator_availability_event_record, tenant_status_event_record


def tenant_status_event_on_change(sender, *, tenant, previous_status, **kwargs) -> None:
    """A tenant's status moved: record the event for the host app, in the same transaction."""
    tenant_status_event_record(tenant=tenant, previous_status=previous_status)


def integrator_availability_event_on_change(
    sender, *, change, episode, at, failures, account=None, **kwargs
) -> None:
    """An account's circuit breaker opened or closed: tell the host app (once per episode:
    the event is keyed by it), naming the account."""
    integrator_availability_event_record(
        change=change, episode=episode, at=at, failures=failures, account_key=account
    )
