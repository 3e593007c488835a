"""What a provisioning job tells other apps, without importing them.

`tenant_flows_observed(tenant, flows)`: a job has just read (or, deprovisioning, removed) the
flows of the tenant's integration; `flows` is a list of (flow id, name, disabled), empty when
the integration is gone. Sent inside the transaction that ends the job, so that a receiver's
writes commit (or roll back) with the job's outcome. The runs app keeps its flow list from it,
so that a settings change that turns a flow off shows at once rather than at the next check.
"""

from django.dispatch import Signal

tenant_flows_observed = Signal()
