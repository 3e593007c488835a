"""The periodic sweep (beat): jobs whose message was lost.

1. A queued job still unclaimed `sweep_grace_seconds` after it was due lost its message
   (a broker restart, Redis down when it was queued, a worker killed while holding a retry):
   send another.
2. A running job whose lease expired lost its worker: send another; the claim takes over.
   Both are compare-and-swaps on `due_at`, which also stamps the re-send, so one job gets at
   most one extra message per grace period, however many sweepers run.

What this deployment left in integrator.io without an owner is the orphan scan's
(provisioning.orphan_scan), on its own, slower schedule.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from provisioning.models import Job, JobStatus
from provisioning.policy import POLICY

logger = logging.getLogger(__name__)


@dataclass
class SweepReport:
    resend: list[uuid.UUID] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"resent": [str(i) for i in self.resend]}


def jobs_sweep() -> SweepReport:
    """Claim the re-sends (the caller sends them)."""
    return SweepReport(resend=jobs_stalled_claim())


def jobs_stalled_claim() -> list[uuid.UUID]:
    now = timezone.now()
    candidates = jobs_stalled(now=now).values_list("pk", "due_at")
    claimed = []
    for job_id, due_at in candidates:
        if Job.objects.filter(pk=job_id, due_at=due_at).update(due_at=now) == 1:
            claimed.append(job_id)
    if claimed:
        logger.warning("re-sending %d stalled job(s): %s", len(claimed), [str(i) for i in claimed])
    return claimed


def jobs_stalled(*, now):
    """Queued jobs unclaimed, and running ones whose lease ran out, since the grace period:
    their message was lost. Read through the partial index of unfinished jobs
    (`job_unfinished_due`), so a sweep costs what is unfinished, not the job history."""
    stale = now - timedelta(seconds=POLICY.sweep_grace_seconds)
    return Job.objects.filter(
        Q(status=JobStatus.QUEUED) | Q(status=JobStatus.RUNNING, lease_expires_at__lt=now),
        due_at__lt=stale,
    ).order_by()
