"""Starting provisioning at the moment a tenant's last connection works."""

from django.db import transaction

from provisioning.models import UNFINISHED_JOB_STATUSES, Job, JobKind
from provisioning.services.jobs import job_request
from tenants.models import Tenant, TenantStatus
from tenants.selectors import tenant_connections_ready

# Statuses in which a tenant still needs its integration built. An active (or degraded) tenant
# that replaces a credential keeps its integration: the same integrator.io connection was
# updated in place, so nothing else has to change.
NEEDS_PROVISIONING = (TenantStatus.AWAITING_CREDENTIALS, TenantStatus.FAILED)


def provisioning_request_when_ready(*, tenant: Tenant, requested_by: str) -> Job | None:
    """Queue the tenant's provision job if every slot is connected and none is under way.

    The tenant row is locked so that two slots submitted at the same moment (from the form
    and the API, say) queue one job, not two; the job's message is sent on commit.
    """
    with transaction.atomic():
        locked = Tenant.objects.select_for_update().select_related("template").get(pk=tenant.pk)
        if locked.status not in NEEDS_PROVISIONING or not tenant_connections_ready(tenant=locked):
            return None
        if Job.objects.filter(tenant=locked, status__in=UNFINISHED_JOB_STATUSES).exists():
            return None
        return job_request(tenant=locked, kind=JobKind.PROVISION, requested_by=requested_by)
