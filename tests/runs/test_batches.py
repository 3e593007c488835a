"""A worker batch stops when the runs' share of the rate limit is spent, and hands the
tenants it did not reach back for a retry (being rate limited is not a sync failure)."""

import pytest
from django.conf import settings as django_settings

from integrator.rate_limit import RedisTokenBucket
from runs.batches import sync_batch_run
from runs.call_budget import runs_bucket_prefix
from runs.models import FlowRun, SyncState
from tenants.integrator_client import rate_limit_redis
from tests.runs.conftest import run_flow

pytestmark = pytest.mark.django_db


@pytest.fixture
def starved_share(live_settings):
    """A runs' share of one call, refilled after half a minute (longer than a wait)."""
    live_settings.RUNS_RATE_SHARE = 0.0001
    yield
    RedisTokenBucket(
        rate_limit_redis(),
        token=django_settings.INTEGRATOR_API_TOKEN,
        key_prefix=runs_bucket_prefix(),
    ).reset()


def test_it_hands_back_the_tenants_it_could_not_reach(account, make_tenant, starved_share):
    acme, globex = make_tenant("acme"), make_tenant("globex")
    RedisTokenBucket(
        rate_limit_redis(),
        token=django_settings.INTEGRATOR_API_TOKEN,
        key_prefix=runs_bucket_prefix(),
    ).reset()
    run_flow(account, acme.flow_ids[0])

    result = sync_batch_run(tenant_ids=[acme.pk, globex.pk])

    assert result.retry_ids == [acme.pk, globex.pk]
    assert result.retry_after > 5
    assert result.calls == 1  # the one call the share allowed, then nothing more was sent
    assert not FlowRun.objects.exists()
    assert not SyncState.objects.exclude(last_error="").exists()
