"""A worker batch stops when the runs' share of the rate limit is spent, and hands the
tenants it did not reach back for a retry (being rate limited is not a sync failure)."""

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from core.integrator_client import rate_limit_redis
from integrator.rate_limit import RedisTokenBucket
from runs import tasks as runs_tasks
from runs.batches import sync_batch_run
from runs.call_budget import runs_bucket_prefix
from runs.models import FlowRun, SyncState
from runs.scheduling import sync_state_for
from tests.fixtures.live_tenants import run_flow

pytestmark = pytest.mark.django_db


def _refill_runs_share() -> None:
    RedisTokenBucket(
        rate_limit_redis(),
        token=django_settings.INTEGRATOR_API_TOKEN,
        key_prefix=runs_bucket_prefix(),
    ).reset()


@pytest.fixture
def starved_share(live_settings):
    """A runs' share of one call, refilled after half a minute (longer than a wait)."""
    live_settings.RUNS_RATE_SHARE = 0.0001
    yield
    _refill_runs_share()


def test_it_hands_back_the_tenants_it_could_not_reach(account, make_tenant, starved_share):
    acme, globex = make_tenant("acme"), make_tenant("globex")
    _refill_runs_share()
    run_flow(account, acme.flow_ids[0])

    result = sync_batch_run(tenant_ids=[acme.pk, globex.pk])

    assert result.retry_ids == [acme.pk, globex.pk]
    assert result.retry_after > 5
    assert result.calls == 1  # the one call the share allowed, then nothing more was sent
    assert not FlowRun.objects.exists()
    assert not SyncState.objects.exclude(last_error="").exists()


@pytest.fixture
def sent(monkeypatch):
    """The messages the task sends itself again (recorded instead of published)."""
    messages = []
    monkeypatch.setattr(
        runs_tasks,
        "send_on_commit",
        lambda task, *args, countdown: messages.append((task.name, args, countdown)),
    )
    return messages


def test_the_task_sends_the_rest_again_just_past_the_wait_then_gives_up(
    account, make_tenant, starved_share, sent
):
    acme, globex = make_tenant("acme"), make_tenant("globex")
    for tenant in (acme, globex):
        sync_state_for(tenant=tenant.tenant)  # as the tick made them: next sync an interval on
    _refill_runs_share()

    runs_tasks.runs_sync_batch.run([acme.pk, globex.pk])

    [(name, args, countdown)] = sent
    assert name == "runs.sync_batch"
    assert args == ([acme.pk, globex.pk], 2)
    assert countdown > 5  # not before the share has a call to give again

    runs_tasks.runs_sync_batch.run([acme.pk, globex.pk], attempt=runs_tasks.MAX_BATCH_RETRIES + 1)

    assert len(sent) == 1  # the last attempt hands them back to the schedule instead,
    # due at once: the next tick takes them first (an outage delays a sync, never drops it)
    now = timezone.now()
    for tenant in (acme, globex):
        assert SyncState.objects.get(tenant=tenant.tenant).next_sync_at <= now
