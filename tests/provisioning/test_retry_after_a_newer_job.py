"""Retrying a job that a newer job of its tenant has followed: refused, with what to do."""

import pytest
from django.utils import timezone

from provisioning.errors import JobSuperseded
from provisioning.models import Job, JobKind, JobOrigin, JobStatus
from provisioning.services import job_retry
from tests.fixtures.factories import TenantFactory

pytestmark = pytest.mark.django_db


def _job(tenant, kind, status) -> Job:
    return Job.objects.create(
        tenant=tenant,
        kind=kind,
        status=status,
        requested_by=JobOrigin.API,
        due_at=timezone.now(),
        finished_at=timezone.now(),
    )


def test_a_failed_upgrade_followed_by_a_repair_that_succeeded_asks_for_a_new_upgrade():
    """The newer job succeeded: it cannot be retried, so "retry that instead" sent the host
    app in a circle (a failed rollout upgrade, then the repair that entering credentials
    again queues, is the usual way here)."""
    tenant = TenantFactory()
    upgrade = _job(tenant, JobKind.UPGRADE, JobStatus.FAILED)
    repair = _job(tenant, JobKind.REPAIR, JobStatus.SUCCEEDED)

    with pytest.raises(JobSuperseded) as refused:
        job_retry(job=upgrade, requested_by=JobOrigin.API)

    assert refused.value.message == (
        f"A newer job of this tenant (repair {repair.pk}, succeeded) came after this one, and "
        "only the latest job can be retried: ask for a new upgrade instead."
    )


def test_a_failed_job_followed_by_one_that_failed_too_points_at_that_one():
    tenant = TenantFactory()
    first = _job(tenant, JobKind.UPGRADE, JobStatus.FAILED)
    newer = _job(tenant, JobKind.REPAIR, JobStatus.FAILED)

    with pytest.raises(JobSuperseded) as refused:
        job_retry(job=first, requested_by=JobOrigin.API)

    assert refused.value.message == (
        f"A newer job of this tenant (repair {newer.pk}, failed) came after this one, and "
        "only the latest job can be retried: retry that one instead."
    )
