"""A job that has just confirmed a tenant's integration matches its version closes the
tenant's open drift episode (provisioning.drift). Apart from drift.py, which imports the job
services, so that the runner can use it without an import cycle."""

from __future__ import annotations

import logging
from datetime import datetime

from provisioning.models import Drift, DriftCheck
from tenants.models import Tenant

logger = logging.getLogger(__name__)


def drift_confirmed_clear(*, tenant: Tenant, at: datetime) -> None:
    """A job's reconcile step has just planned the tenant's integration against the version
    the tenant is on after the job, and the plan was empty: close the open episode, and record
    that as the tenant's last check. Called in the job's final transaction. A tenant with no
    open episode is left as it is (one statement): its periodic checks keep their schedule."""
    if Drift.objects.filter(tenant=tenant, cleared_at=None).update(cleared_at=at):
        DriftCheck.objects.update_or_create(tenant=tenant, defaults={"checked_at": at, "error": ""})
        logger.info("drift of tenant %s cleared by its job", tenant.external_id)


def drift_close_deprovisioned(*, tenant: Tenant, at: datetime) -> None:
    """The tenant's integration is gone with it: close its open episode, if any. Nothing
    checks a deprovisioned tenant again, so an episode left open would say "drifted" (API,
    admin, eis_tenants_drifted) for ever. Called in the deprovision job's final transaction."""
    if Drift.objects.filter(tenant=tenant, cleared_at=None).update(cleared_at=at):
        logger.info("drift of tenant %s closed: deprovisioned", tenant.external_id)
