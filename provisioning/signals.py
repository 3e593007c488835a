"""What a provisioning job tells other apps, without importing them.

`tenant_flows_observed(tenant, flows)`: a job has just read (or, deprovisioning, removed) the
flows of the tenant's integration; `flows` is a list of (flow id, name, disabled), empty when
the integration is gone. Sent inside the transaction that ends the job, so that a receiver's
writes commit (or roll back) with the job's outcome. The runs app keeps its flow list from it,
so that a settings change that turns a flow off shows at once rather than at the next check.

`job_retried(job)`: a failed or canceled job was queued again (provisioning.services.job_retry).
Sent inside the retry's transaction, so that whoever recorded the job's failure (a rollout's
record of its tenant) takes it back together with the retry.
"""

from django.dispatch import Signal

tenant_flows_observed = Signal()
job_retried = Signal()
