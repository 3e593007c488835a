"""A template with two versions, tenants ready for an upgrade, and the engine's part played
by the test: a wave's upgrade jobs are finished here, as the upgrade engine will finish them
(a success moves the tenant's template_version, a failure leaves it), so that these tests
depend on the rollout's contract with the engine and not on the engine itself."""

from __future__ import annotations

import pytest
from django.utils import timezone

from provisioning.models import Job, JobStatus
from rollouts.models import Rollout, RolloutTenant, RolloutTenantState
from rollouts.plan import RolloutSpec
from tenants.models import TemplateVersion, Tenant, TenantStatus
from tests.fixtures.factories import IntegrationTemplateFactory, TenantFactory, current_version


def version_publish(template, version: str) -> TemplateVersion:
    v1 = current_version(template)
    return TemplateVersion.objects.create(
        template=template,
        version=version,
        source_integration_id=v1.source_integration_id,
        slots=v1.slots,
        settings_schema=v1.settings_schema,
        settings_mapping=v1.settings_mapping,
        digest=f"digest-of-{version}",
        # Published online: moving tenants to a version without a snapshot is refused.
        snapshot={"integration": {"_id": v1.source_integration_id}, "flows": []},
    )


def upgradable_tenant(template, external_id: str, **fields) -> Tenant:
    """A tenant with an integration, as provisioning leaves it."""
    return TenantFactory(
        template=template,
        external_id=external_id,
        name=external_id.title(),
        status=fields.pop("status", TenantStatus.ACTIVE),
        integration_id=fields.pop("integration_id", f"int-{external_id}"),
        **fields,
    )


def finish_jobs(rollout: Rollout, *, fail: tuple[str, ...] = (), rollback: bool = False) -> int:
    """Finish every unfinished job of the rollout as the engine would: the tenants named in
    `fail` fail (error_code/error_message, version kept), the others move to the job's
    target version. Returns how many jobs it finished."""
    field = "rollback_job" if rollback else "job"
    jobs = Job.objects.filter(
        pk__in=RolloutTenant.objects.filter(rollout=rollout).values(field),
        status__in=(JobStatus.QUEUED, JobStatus.RUNNING),
    ).select_related("tenant")
    finished = 0
    for job in jobs:
        now = timezone.now()
        if job.tenant.external_id in fail:
            Job.objects.filter(pk=job.pk).update(
                status=JobStatus.FAILED,
                finished_at=now,
                error_code="reconcile_failed",
                error_message="The flow could not be updated.",
            )
        else:
            Job.objects.filter(pk=job.pk).update(status=JobStatus.SUCCEEDED, finished_at=now)
            Tenant.objects.filter(pk=job.tenant_id).update(template_version=job.target_version)
        finished += 1
    return finished


def states(rollout: Rollout) -> dict[str, str]:
    return dict(
        RolloutTenant.objects.filter(rollout=rollout).values_list("tenant__external_id", "state")
    )


def wave_of(rollout: Rollout, wave: int) -> list[str]:
    return sorted(
        RolloutTenant.objects.filter(rollout=rollout, wave=wave).values_list(
            "tenant__external_id", flat=True
        )
    )


S = RolloutTenantState


@pytest.fixture
def shop(db):
    """The template (v1.0.0, every tenant's version) and its v2.0.0."""
    template = IntegrationTemplateFactory(key="shop-to-erp", name="Shop to ERP")
    template.v1 = current_version(template)
    # Published online too: a rollback moves tenants back to it.
    template.v1.snapshot = {"integration": {"_id": template.v1.source_integration_id}, "flows": []}
    template.v1.save(update_fields=["snapshot"])
    template.v2 = version_publish(template, "2.0.0")
    return template


@pytest.fixture
def five(shop):
    """Five upgradable tenants, t1..t5."""
    return [upgradable_tenant(shop, f"t{n}") for n in range(1, 6)]


def canary(*external_ids: str, wave_size: int = 2, max_failure_rate: float = 0.0) -> RolloutSpec:
    return RolloutSpec(
        strategy="canary",
        canary_tenants=list(external_ids),
        wave_size=wave_size,
        max_failure_rate=max_failure_rate,
    )
