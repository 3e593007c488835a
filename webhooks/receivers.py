"""What webhooks records when another app reports a change (see tenants.signals)."""

from webhooks.services import tenant_status_event_record


def tenant_status_event_on_change(sender, *, tenant, previous_status, **kwargs) -> None:
    """A tenant's status moved: record the event for the host app, in the same transaction."""
    tenant_status_event_record(tenant=tenant, previous_status=previous_status)
