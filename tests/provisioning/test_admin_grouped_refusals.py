"""Admin actions over many rows say each reason of refusal once, counting and naming a few of
the rows refused for it (core.admin_display.each_object), also where each row's refusal names
something of its own (the job in its way)."""

import pytest
from django.utils import timezone

from provisioning.models import Job, JobKind, JobOrigin, JobStatus
from tenants.models import Tenant
from tests.fixtures.factories import TenantFactory

pytestmark = pytest.mark.django_db


def _under_way(tenant, kind=JobKind.UPGRADE, status=JobStatus.RUNNING) -> Job:
    job = Job.objects.create(
        tenant=tenant,
        kind=kind,
        status=status,
        requested_by=JobOrigin.API,
        due_at=timezone.now(),
        target_version=tenant.template_version if kind == JobKind.UPGRADE else None,
    )
    Tenant.objects.filter(pk=tenant.pk).update(latest_job=job)
    return job


def test_tenants_refused_for_their_jobs_under_way_are_said_in_one_warning(admin_client):
    """Each tenant's refusal named its own job, so each was a reason of its own: Repair for
    a fleet busy with a rollout said one warning per tenant, hundreds of them. Tenants refused
    for the same reason are one warning that counts and names them; a tenant alone keeps its
    job's name."""
    tenants = [
        TenantFactory(external_id=f"busy{n}", status="active", integration_id=f"int-{n}")
        for n in range(7)
    ]
    for tenant in tenants:
        _under_way(tenant)

    response = admin_client.post(
        "/admin/tenants/tenant/",
        {"action": "request_repair", "_selected_action": [t.pk for t in tenants]},
        follow=True,
    )

    assert [str(m) for m in response.context["messages"]] == [
        "Did not queue a repair for 7 tenants (busy0, busy1, busy2, busy3, busy4 and 2 more): "
        "each has a job under way; select them again once those jobs have finished."
    ]


def test_jobs_refused_for_newer_jobs_are_said_in_one_warning_per_reason(admin_client):
    older = []
    for n in range(3):
        tenant = TenantFactory(external_id=f"acme{n}")
        older.append(_under_way(tenant, kind=JobKind.PROVISION, status=JobStatus.FAILED))
        _under_way(tenant, kind=JobKind.UPDATE_SETTINGS, status=JobStatus.RUNNING)

    response = admin_client.post(
        "/admin/provisioning/job/",
        {"action": "retry_jobs", "_selected_action": [job.pk for job in older]},
        follow=True,
    )

    said = [str(m) for m in response.context["messages"]]
    assert len(said) == 1, said
    assert said[0].startswith("Not retried: 3 jobs (")
    assert said[0].endswith(
        ": each one's tenant has a newer job under way, and only a tenant's latest job can be "
        "retried; once those have finished, queue what is still needed from the tenants' list."
    )
