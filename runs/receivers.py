"""What runs records when another app reports something (see provisioning.signals)."""

from runs.mirror import tenant_flows_record


def flows_observed_record(sender, *, tenant, flows, **kwargs) -> None:
    """A provisioning job has just changed (or removed) the tenant's flows: the flow list
    shows them at once instead of at the next connection check."""
    tenant_flows_record(tenant=tenant, flows=flows)
