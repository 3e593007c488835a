"""Reads of jobs and orphans, shaped for the API, the admin and the credential forms' status
page."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db.models import (
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce

from provisioning.errors import JobNotFound, OrphanNotFound
from provisioning.models import ApiCall, Drift, DriftCheck, Job, JobStep, Orphan
from tenants.errors import TenantGone
from tenants.models import Tenant
from tenants.services.tenants import GONE_STATUSES


def _with_counts(jobs: QuerySet[Job]) -> QuerySet[Job]:
    return jobs.select_related("tenant").annotate(
        # The version's number alone: the row holds its snapshot, read for nothing here.
        target_version_number=F("target_version__version"),
        api_call_count=Count("api_calls"),
        api_call_error_count=Count(
            "api_calls", filter=Q(api_calls__status__isnull=True) | Q(api_calls__status__gte=400)
        ),
    )


def jobs_with_api_call_count(jobs: QuerySet[Job]) -> QuerySet[Job]:
    """`jobs`, each with `api_call_count`, counted for each job read, not as an aggregate over
    a join of every job with its calls: the admin's job list counts its rows, reads one page
    and draws its date bar, and over a fleet's jobs (30,000 jobs of 20 calls each) that join
    cost seconds per page. The database counts the calls of the page's rows only (and of
    every row when the list is sorted by the count)."""
    calls = (
        ApiCall.objects.filter(job=OuterRef("pk"))
        .order_by()
        .values("job")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return jobs.annotate(api_call_count=Coalesce(Subquery(calls, output_field=IntegerField()), 0))


def job_list(*, tenant: Tenant, status: str | None = None) -> QuerySet[Job]:
    """The tenant's jobs, newest first, each with its API call counts."""
    jobs = Job.objects.filter(tenant=tenant)
    if status:
        jobs = jobs.filter(status=status)
    return _with_counts(jobs).order_by("-created_at")


def job_get(*, job_id: str | uuid.UUID) -> Job:
    """One job with its steps (each with `api_call_count`) and its own counts."""
    try:
        job_uuid = uuid.UUID(str(job_id))
    except ValueError:
        raise JobNotFound(f"No job with id {job_id!r}.") from None
    steps = JobStep.objects.annotate(api_call_count=Count("api_calls")).order_by("position")
    job = (
        _with_counts(Job.objects.filter(pk=job_uuid))
        .prefetch_related(Prefetch("steps", queryset=steps))
        .first()
    )
    if job is None:
        raise JobNotFound(f"No job with id {job_id!r}.")
    return job


def jobs_by_id_prefix(jobs: QuerySet[Job], *, prefix: str) -> QuerySet[Job] | None:
    """The jobs whose id starts with `prefix` (hex digits, dashes allowed: the short id ops are
    shown, "019d1be7"), as a range of the primary key, which its index answers; None when the
    prefix is not a part of an id (too short to mean one job, or not hex)."""
    digits = prefix.strip().lower().replace("-", "")
    if not 4 <= len(digits) <= 32 or any(c not in "0123456789abcdef" for c in digits):
        return None
    low = uuid.UUID(digits.ljust(32, "0"))
    high = uuid.UUID(digits.ljust(32, "f"))
    return jobs.filter(id__gte=low, id__lte=high)


def job_newer(*, job: Job) -> Job | None:
    """The latest job of `job`'s tenant that came after it (what refuses its retry), if any."""
    return (
        Job.objects.filter(tenant_id=job.tenant_id, created_at__gt=job.created_at)
        .order_by("-created_at")
        .first()
    )


def orphan_list(
    *, status: str | None = None, kind: str | None = None, account: str | None = None
) -> QuerySet[Orphan]:
    orphans = Orphan.objects.select_related("tenant", "account")
    if status:
        orphans = orphans.filter(status=status)
    if kind:
        orphans = orphans.filter(kind=kind)
    if account:
        orphans = orphans.filter(account__key=account)
    return orphans.order_by("-first_seen_at", "-id")


def orphan_get(*, orphan_id: str | uuid.UUID) -> Orphan:
    try:
        orphan_uuid = uuid.UUID(str(orphan_id))
    except ValueError:
        raise OrphanNotFound(f"No orphan with id {orphan_id!r}.") from None
    orphan = Orphan.objects.select_related("tenant", "account").filter(pk=orphan_uuid).first()
    if orphan is None:
        raise OrphanNotFound(f"No orphan with id {orphan_id!r}.")
    return orphan


@dataclass(frozen=True)
class DriftStatus:
    """A tenant's open drift episode (None: in sync at its last check) and its last check."""

    episode: Drift | None
    check: DriftCheck | None


def tenant_drift_answer(*, tenant: Tenant) -> DriftStatus:
    """The drift the host app is told of. A tenant being or already deprovisioned has none
    to tell: its integration is gone or going, so an episode its last check left open would
    describe what no longer exists (and that no repair can be asked for). 409, as its plan is
    (`tenant_plan_preview`)."""
    if tenant.status in GONE_STATUSES:
        raise TenantGone(f"The tenant is {tenant.status}; there is no integration to compare.")
    return tenant_drift(tenant=tenant)


def tenant_drift(*, tenant: Tenant) -> DriftStatus:
    return DriftStatus(
        episode=Drift.objects.filter(tenant=tenant, cleared_at=None)
        .select_related("version", "repair_job")
        .first(),
        check=DriftCheck.objects.filter(tenant=tenant).first(),
    )


def tenants_drifted(tenants: QuerySet[Tenant], *, drifted: bool = True) -> QuerySet[Tenant]:
    """The tenants with an open drift episode (their integration differs from their version
    now), or, `drifted=False`, those without one (in sync, or not checked). A subquery, not a
    join: the tenant list stays one row per tenant, and counts as fast."""
    open_episode = Exists(Drift.objects.filter(tenant=OuterRef("pk"), cleared_at__isnull=True))
    return tenants.filter(open_episode if drifted else ~open_episode)
