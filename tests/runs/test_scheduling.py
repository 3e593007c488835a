"""Beat ticks hand out work within the call budget, each piece once per interval: tenants'
connection checks, and each account's run sync cycle."""

from datetime import timedelta

import pytest
from django.utils import timezone

from runs.account_sync import accounts_due_for_sync
from runs.call_budget import check_calls_per_second, sync_calls_per_second
from runs.models import SyncState
from runs.scheduling import tenants_due_for_check, tick_budget
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


def test_the_check_budget_fits_ten_thousand_tenants_in_one_interval(settings):
    settings.INTEGRATOR_RATE_LIMIT_PER_SECOND = 300
    settings.RUNS_RATE_SHARE = 0.25

    assert sync_calls_per_second() + check_calls_per_second() == 75  # 25% of the limit
    cycle_seconds = 10_000 * 3 / check_calls_per_second()  # two pings and a flows listing
    assert cycle_seconds < settings.RUNS_CHECK_INTERVAL_SECONDS
    assert tick_budget(calls_per_second=check_calls_per_second(), tick_seconds=30) == 450


def test_the_account_cycle_is_claimed_once_per_interval(settings):
    now = timezone.now()

    first = accounts_due_for_sync(now=now)
    again = accounts_due_for_sync(now=now + timedelta(seconds=1))
    later = accounts_due_for_sync(
        now=now + timedelta(seconds=settings.RUNS_SYNC_INTERVAL_SECONDS + 1)
    )

    assert (first, again, later) == (["default"], [], ["default"])


def test_it_checks_only_tenants_whose_integration_runs(template):
    live = _tenants(template, 2) + _tenants(template, 1, status=TenantStatus.DEGRADED)
    _tenants(template, 2, status=TenantStatus.PROVISIONING)
    _tenants(template, 1, status=TenantStatus.DEPROVISIONED)
    _tenants(template, 1, integration="", prefix="no-integration-")

    handed_out = _flat(tenants_due_for_check(budget=100))

    assert sorted(handed_out) == sorted(t.pk for t in live)


def test_it_prices_a_check_at_a_ping_per_connection_plus_one(template):
    now = timezone.now()
    tenants = _tenants(template, 3)
    for tenant in tenants:
        for slot in ("shop", "erp"):
            TenantConnection.objects.create(tenant=tenant, slot_key=slot, connection_id=slot)

    assert len(_flat(tenants_due_for_check(now=now, budget=7))) == 2  # 3 calls each


def test_a_shorter_check_interval_pulls_checks_already_scheduled_forward(template, settings):
    """A check was scheduled one (old) interval ahead and waited for it, whatever the setting
    said after a restart: an hour, where the new interval said 10 minutes."""
    settings.RUNS_CHECK_INTERVAL_SECONDS = 3600
    now = timezone.now()
    [checked, never] = _tenants(template, 2)
    assert sorted(_flat(tenants_due_for_check(now=now, budget=100))) == [checked.pk, never.pk]
    SyncState.objects.filter(tenant=checked).update(last_checked_at=now)

    settings.RUNS_CHECK_INTERVAL_SECONDS = 600
    assert _flat(tenants_due_for_check(now=now + timedelta(seconds=599), budget=100)) == []
    due = _flat(tenants_due_for_check(now=now + timedelta(seconds=601), budget=100))

    assert due == [checked.pk]  # one new interval after its last check
    assert SyncState.objects.get(tenant=never).next_check_at == now + timedelta(seconds=599 + 600)
    state = SyncState.objects.get(tenant=checked)
    assert state.next_check_at == now + timedelta(seconds=601 + 600)
