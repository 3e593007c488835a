"""Beat ticks hand out tenants within the call budget, each once per interval."""

from datetime import timedelta

import pytest
from django.utils import timezone

from runs.call_budget import check_calls_per_second, sync_calls_per_second
from runs.models import SyncState
from runs.scheduling import tenants_due_for_check, tenants_due_for_sync, tick_budget
from tenants.models import IntegrationTemplate, Tenant, TenantConnection, TenantStatus
from tests.fixtures.factories import current_version

pytestmark = pytest.mark.django_db


@pytest.fixture
def template():
    return IntegrationTemplate.objects.create(
        key="t", name="T", source_integration_id="5eed00000000000000000a01"
    )


def _tenants(template, count, *, status=TenantStatus.ACTIVE, integration="i", prefix=""):
    return [
        Tenant.objects.create(
            external_id=f"{prefix}{status}-{n}",
            name="x",
            template=template,
            template_version=current_version(template),
            status=status,
            integration_id=f"{integration}{n}" if integration else "",
        )
        for n in range(count)
    ]


def _flat(batches):
    return [tenant_id for batch in batches for tenant_id in batch]


def test_the_budget_fits_ten_thousand_quiet_tenants_in_one_interval(settings):
    settings.INTEGRATOR_RATE_LIMIT_PER_SECOND = 300
    settings.RUNS_RATE_SHARE = 0.25

    assert sync_calls_per_second() + check_calls_per_second() == 75  # 25% of the limit
    cycle_seconds = 10_000 / sync_calls_per_second()  # one call per quiet tenant
    assert cycle_seconds < settings.RUNS_SYNC_INTERVAL_SECONDS
    assert tick_budget(calls_per_second=sync_calls_per_second(), tick_seconds=30) == 1800


def test_it_hands_out_no_more_than_one_tick_pays_for(template):
    now = timezone.now()
    tenants = _tenants(template, 10)
    tenants_due_for_sync(now=now, budget=0)  # only creates their states
    SyncState.objects.update(next_sync_at=now, expected_calls=1)
    SyncState.objects.filter(tenant=tenants[0]).update(expected_calls=4)

    first = _flat(tenants_due_for_sync(now=now, budget=6))
    second = _flat(tenants_due_for_sync(now=now, budget=6))
    third = _flat(tenants_due_for_sync(now=now, budget=6))

    assert first == [tenants[0].pk, tenants[1].pk, tenants[2].pk]  # 4 + 1 + 1
    assert len(second) == 6
    assert len(third) == 1
    assert len(set(first + second + third)) == 10  # each once
    later = now + timedelta(seconds=300)
    assert all(s.next_sync_at == later for s in SyncState.objects.all())


def test_it_syncs_only_tenants_whose_integration_runs(template):
    live = _tenants(template, 2) + _tenants(template, 1, status=TenantStatus.DEGRADED)
    _tenants(template, 2, status=TenantStatus.PROVISIONING)
    _tenants(template, 1, status=TenantStatus.DEPROVISIONED)
    _tenants(template, 1, integration="", prefix="no-integration-")

    handed_out = _flat(tenants_due_for_sync(budget=100))

    assert sorted(handed_out) == sorted(t.pk for t in live)


def test_it_prices_a_check_at_a_ping_per_connection_plus_one(template):
    now = timezone.now()
    tenants = _tenants(template, 3)
    for tenant in tenants:
        for slot in ("shop", "erp"):
            TenantConnection.objects.create(tenant=tenant, slot_key=slot, connection_id=slot)

    assert len(_flat(tenants_due_for_check(now=now, budget=7))) == 2  # 3 calls each
