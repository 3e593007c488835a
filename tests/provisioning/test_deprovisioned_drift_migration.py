"""Upgrading: a tenant deprovisioned before its deprovision closed its open drift episode
kept that episode open for ever (nothing checks a deprovisioned tenant again), so the API and
the admin said it drifted and eis_tenants_drifted counted it; provisioning's migration 0009
closes those episodes, at the time the tenant became deprovisioned."""

from datetime import timedelta

import pytest
from django.utils import timezone

from provisioning.models import Drift
from tenants.models import Tenant, TenantStatus
from tests.fixtures.factories import current_version
from tests.fixtures.migrations import migrated_back

BEFORE = [("provisioning", "0008_job_origin_rollout")]
AFTER = [("provisioning", "0009_close_deprovisioned_drift")]


def _open_episode(tenant: Tenant, *, found_at) -> Drift:
    return Drift.objects.create(
        tenant=tenant,
        version=current_version(tenant.template),
        found_at=found_at,
        last_seen_at=found_at + timedelta(minutes=5),
        changes=[{"kind": "UpdateFlow"}],
    )


@pytest.mark.django_db(transaction=True)
def test_open_drift_of_deprovisioned_tenants_is_closed_and_no_other(acme, globex, template):
    from tests.fixtures.factories import TenantFactory

    initech = TenantFactory(external_id="initech", template=template)
    found = timezone.now() - timedelta(days=3)
    gone_at = timezone.now() - timedelta(days=1)
    Tenant.objects.filter(pk=acme.pk).update(
        status=TenantStatus.DEPROVISIONED, status_changed_at=gone_at
    )
    Tenant.objects.filter(pk=globex.pk).update(status=TenantStatus.ACTIVE)
    Tenant.objects.filter(pk=initech.pk).update(status=TenantStatus.DEPROVISIONING)

    with migrated_back(BEFORE) as (_, migrate):
        gone, live, going = (_open_episode(t, found_at=found) for t in (acme, globex, initech))

        migrate(AFTER)
        assert Drift.objects.get(pk=gone.pk).cleared_at == gone_at
        assert Drift.objects.get(pk=live.pk).cleared_at is None, "still checked"
        assert Drift.objects.get(pk=going.pk).cleared_at is None, "its deprovision closes it"

        migrate(BEFORE)  # reversible, and undoes nothing: the episode did end
        assert Drift.objects.get(pk=gone.pk).cleared_at == gone_at
