"""What a provisioning job tells other apps, without importing them.

`tenant_flows_observed(tenant, flows)`: a job or a drift check has just read (or,
deprovisioning, removed) the flows of the tenant's integration; `flows` is a list of (flow id,
name, disabled[, source id]), empty when the integration is gone. Sent inside the transaction
that ends the job (or records the check), so that a receiver's writes commit (or roll back)
with it. The runs app keeps its flow list from it, so that a settings change that turns a flow
off, or a flow deleted in integrator.io, shows at once rather than at the next check.

`job_retried(job)`: a failed or canceled job was queued again (provisioning.services.job_retry).
Sent inside the retry's transaction, so that whoever recorded the job's failure (a rollout's
record of its tenant) takes it back together with the retry.

`connection_saved(tenant, slot_key)`: new credentials for one of the tenant's slots (the
credential form, an OAuth consent, the host API) worked and were saved. The runs app judges the
tenant's health again from it, so that a tenant degraded by that slot's failed check recovers
as soon as its customer reconnects, rather than at the next scheduled check (an hour later).

`drift_changed(tenant)`: a drift check opened, changed or closed the tenant's drift episode
(provisioning.drift). Sent inside the check's transaction. The runs app judges the tenant's
health again from it: a deleted integration or flow makes the tenant degraded at the check
that finds it, not at the next run sync or connection check.

`tenant_held_degraded(tenant)`: a job has succeeded on a degraded tenant, which it would move
to active. Each receiver answers the reasons it still holds the tenant degraded for (a list of
sentences; empty for none). The runs app answers its health rules' problems (a connection
failing its checks, a flow failing its runs): the job's success says nothing of those, and
moving the tenant to active would tell the host app `tenant.recovered` only for the next
check to degrade it again. Sent inside the transaction that ends the job.
"""

from django.dispatch import Signal

tenant_flows_observed = Signal()
job_retried = Signal()
connection_saved = Signal()
drift_changed = Signal()
tenant_held_degraded = Signal()
