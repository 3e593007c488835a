"""The periodic sweep (beat): jobs whose message was lost, and clones nobody owns.

1. A queued job still unclaimed `sweep_grace_seconds` after it was due lost its message
   (a broker restart, a worker killed while holding a retry): send another.
2. A running job whose lease expired lost its worker: send another; the claim takes over.
   Both are compare-and-swaps on `due_at`, which also stamps the re-send, so one job gets at
   most one extra message per grace period, however many sweepers run.
3. Report clones carrying our tag prefix whose tenant row does not exist, or that are not
   the integration their tenant uses (a duplicate). They are logged, never deleted: a
   person decides.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from integrator.errors import IntegratorError
from provisioning.clone_tags import clone_tag_parse
from provisioning.models import Job, JobStatus
from provisioning.policy import POLICY
from tenants.integrator_client import build_integrator_client
from tenants.models import Tenant, TenantStatus

logger = logging.getLogger(__name__)


@dataclass
class SweepReport:
    resend: list[uuid.UUID] = field(default_factory=list)
    orphans: list[dict] = field(default_factory=list)
    orphan_scan_error: str = ""

    def as_dict(self) -> dict:
        return {
            "resent": [str(i) for i in self.resend],
            "orphans": self.orphans,
            "orphan_scan_error": self.orphan_scan_error,
        }


def jobs_sweep(*, scan_orphans: bool = True) -> SweepReport:
    """Claim the re-sends (the caller sends them) and list the orphaned clones."""
    report = SweepReport(resend=jobs_stalled_claim())
    if scan_orphans:
        try:
            report.orphans = clones_orphaned()
        except IntegratorError as error:
            report.orphan_scan_error = str(error)
            logger.warning("orphan scan skipped: %s", error)
    return report


def jobs_stalled_claim() -> list[uuid.UUID]:
    now = timezone.now()
    stale = now - timedelta(seconds=POLICY.sweep_grace_seconds)
    candidates = Job.objects.filter(
        Q(status=JobStatus.QUEUED) | Q(status=JobStatus.RUNNING, lease_expires_at__lt=now),
        due_at__lt=stale,
    ).values_list("pk", "due_at")
    claimed = []
    for job_id, due_at in candidates:
        if Job.objects.filter(pk=job_id, due_at=due_at).update(due_at=now) == 1:
            claimed.append(job_id)
    if claimed:
        logger.warning("re-sending %d stalled job(s): %s", len(claimed), [str(i) for i in claimed])
    return claimed


def clones_orphaned() -> list[dict]:
    """Integrations tagged as ours that no tenant owns."""
    with build_integrator_client() as client:
        integrations = client.list_integrations(include=["tag"])
    ours = [(i, clone_tag_parse(i.raw.get("tag"))) for i in integrations]
    ours = [(i, tag) for i, tag in ours if tag is not None]
    tenants = {
        t.pk: t
        for t in Tenant.objects.filter(pk__in={tag.tenant_pk for _, tag in ours}).only(
            "pk", "integration_id", "status"
        )
    }
    orphans = []
    for integration, tag in ours:
        tenant = tenants.get(tag.tenant_pk)
        if tenant is None:
            reason = "no tenant"
        elif tenant.status == TenantStatus.DEPROVISIONED:
            reason = "tenant deprovisioned"
        elif tenant.integration_id and tenant.integration_id != integration.id:
            reason = "duplicate: the tenant uses another integration"
        else:
            continue
        orphans.append(
            {"integration_id": integration.id, "tag": integration.raw["tag"], "reason": reason}
        )
    for orphan in orphans:
        logger.warning(
            "orphaned clone %s (%s): %s", orphan["integration_id"], orphan["tag"], orphan["reason"]
        )
    return orphans
