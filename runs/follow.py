"""Following a run started on demand until it ends (runs.tasks.run_follow_task).

The scheduled sync reads a tenant's runs every few minutes; a run someone has just started
(run now, the portal) is read on its own at growing intervals until it ends, so that the
mirror shows its outcome within seconds of it, and the tenant's health (and status, by
runs.health's rules) follows it as it would a synced run.
"""

from __future__ import annotations

from django.db import transaction

from integrator import errors as remote
from runs.call_budget import tenant_runs_client
from runs.health import tenant_health_evaluate
from runs.mirror import runs_upsert
from tenants.models import Tenant


def run_follow(*, tenant_id: int, job_id: str) -> bool:
    """Read one run again and mirror it; True once it has ended (or cannot be read any
    more: the tenant's next sync takes over)."""
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None or not tenant.integration_id:
        return True
    with tenant_runs_client(tenant=tenant) as client:
        try:
            job = client.get_job(job_id)
        except remote.NotFoundError:
            return True
    run_mirror(tenant=tenant, job=job)
    return job.is_finished


def run_mirror(*, tenant: Tenant, job) -> None:
    """Mirror one run read on its own (run now, a run followed to its end). The sync judges
    health only for runs that changed since the mirror last had them; a run mirrored at its
    end here is one the sync will find unchanged, so its outcome is judged now (a failing flow
    degrades the tenant, a success may recover it).

    Both in one transaction: a run's end stored without its judgement would be found unchanged
    by the task's retry and by the sync, and never judged."""
    with transaction.atomic():
        upserted = runs_upsert(tenant=tenant, jobs=[job])
        if upserted.changed and job.is_finished:
            tenant_health_evaluate(tenant=tenant)
