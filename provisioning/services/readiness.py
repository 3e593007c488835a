"""Starting provisioning at the moment a tenant's last connection works."""

import logging
from dataclasses import dataclass

from django.db import transaction

from core.errors import ApplicationError
from provisioning.models import UNFINISHED_JOB_STATUSES, Job, JobKind
from provisioning.services.jobs import job_request
from provisioning.signals import connection_saved
from tenants.models import Tenant, TenantStatus
from tenants.selectors import tenant_connections_ready
from tenants.services import ConnectionSubmitResult, tenant_connection_submit
from tenants.services.oauth_slots import OAuthTokens, tenant_oauth_connection_submit

logger = logging.getLogger(__name__)

# Statuses in which a tenant still needs its integration built. An active (or degraded) tenant
# that replaces a credential keeps its integration: the same integrator.io connection was
# updated in place, so nothing else has to change; unless that connection was gone and a new
# one was made, which its integration's steps must be moved to (`LIVE`: a repair).
NEEDS_PROVISIONING = (TenantStatus.AWAITING_CREDENTIALS, TenantStatus.FAILED)
LIVE = (TenantStatus.ACTIVE, TenantStatus.DEGRADED)


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
        # Part of the change that made the last slot work (credentials handed over, an
        # orphan adopted), which is recorded in the audit log: not an event of its own.
        return job_request(
            tenant=locked, kind=JobKind.PROVISION, requested_by=requested_by, audited=False
        )


@dataclass(frozen=True)
class CredentialsOutcome:
    """What handing over one slot's credentials did.

    `submission` is the tenants service's result (a failed test leaves everything as it
    was). `job` is the provisioning job this submission queued, if any; `not_queued` is why
    none was queued although every slot now works (the credentials are saved either way).
    """

    submission: ConnectionSubmitResult
    job: Job | None = None
    not_queued: ApplicationError | None = None


def credentials_submit(
    *, tenant: Tenant, slot_key: str, values: dict, requested_by: str
) -> CredentialsOutcome:
    """Test and save one slot's credentials, then queue provisioning if every slot now works.

    The one implementation behind the API's `PUT …/connections/{slot}` and the credential
    form. Raises the tenants service's errors (unknown slot, invalid fields, integrator.io
    unavailable) before anything is saved. Once the credentials are saved, failing to queue
    the job does not undo them or turn the answer into an error: the outcome says why, and
    the tenant waits with every slot working until provisioning is requested again.
    """
    submission = tenant_connection_submit(tenant=tenant, slot_key=slot_key, values=values)
    return _after_submission(tenant=tenant, submission=submission, requested_by=requested_by)


def oauth_credentials_submit(
    *, tenant: Tenant, slot_key: str, tokens: OAuthTokens, requested_by: str
) -> CredentialsOutcome:
    """As `credentials_submit`, for an OAuth slot's tokens from the user's consent (the
    credential form's callback): test and save, then queue provisioning if every slot works."""
    submission = tenant_oauth_connection_submit(tenant=tenant, slot_key=slot_key, tokens=tokens)
    return _after_submission(tenant=tenant, submission=submission, requested_by=requested_by)


def _after_submission(
    *, tenant: Tenant, submission: ConnectionSubmitResult, requested_by: str
) -> CredentialsOutcome:
    if submission.ok:
        connection_saved.send(sender=Tenant, tenant=tenant, slot_key=submission.connection.slot_key)
    if not submission.ok or not submission.all_slots_ok:
        return CredentialsOutcome(submission=submission)
    try:
        if submission.replaced_connection_id:
            job = _rewire_request(tenant=tenant, submission=submission, requested_by=requested_by)
        else:
            job = provisioning_request_when_ready(tenant=tenant, requested_by=requested_by)
    except ApplicationError as error:
        logger.warning("provisioning not queued after the last slot: %s", error.code)
        return CredentialsOutcome(submission=submission, not_queued=error)
    return CredentialsOutcome(submission=submission, job=job)


def _rewire_request(
    *, tenant: Tenant, submission: ConnectionSubmitResult, requested_by: str
) -> Job | None:
    """The slot's connection was gone from integrator.io and a new one was made: a live
    tenant's integration still uses the old one, so a repair moves its steps to the new one
    (its reconcile's ReplaceConnection). A tenant not live yet is provisioned as usual."""
    with transaction.atomic():
        locked = Tenant.objects.select_for_update().get(pk=tenant.pk)
        if locked.status not in LIVE or not locked.integration_id:
            return provisioning_request_when_ready(tenant=locked, requested_by=requested_by)
        logger.warning(
            "tenant %s: slot %s has a new connection %s (its connection %s was gone): repair",
            locked.external_id,
            submission.connection.slot_key,
            submission.connection.connection_id,
            submission.replaced_connection_id,
        )
        return job_request(tenant=locked, kind=JobKind.REPAIR, requested_by=requested_by)
