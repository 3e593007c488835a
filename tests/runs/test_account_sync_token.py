"""An account whose API token cannot be had (none stored, or no configured key opens it): its
run sync cycle fails like any other failed cycle, on its cursor and in one log line, not as
a task's traceback that leaves the cursor saying all is well; its tenants' checks say why."""

import logging

import pytest

from core.accounts import integrator_account_save
from core.encryption import key_new
from core.models import IntegratorAccount
from runs.account_sync import account_sync_now
from runs.batches import check_batch_run, sync_batch_run
from runs.models import RunSyncCursor, SyncState
from runs.scheduling import sync_state_for
from tenants.models import TenantStatus
from tests.fixtures.factories import IntegrationTemplateFactory, TenantFactory

TOKEN = "eu-account-token-0123456789abcdef"


@pytest.mark.django_db
@pytest.mark.parametrize("how", ["no token", "copied from another row"])
def test_a_cycle_without_a_usable_token_is_a_failed_cycle_of_that_account(settings, caplog, how):
    settings.ENCRYPTION_KEYS = f"k1:{key_new()}"
    if how == "no token":
        IntegratorAccount.objects.create(key="eu-main", name="EU", region="eu")
    else:
        integrator_account_save(key="eu-main", name="EU", region="eu", token="placeholder")
        other = integrator_account_save(key="us-two", name="US", region="us", token=TOKEN)
        IntegratorAccount.objects.filter(key="eu-main").update(
            token_encrypted=other.token_encrypted
        )

    with caplog.at_level(logging.WARNING, logger="runs.account_sync"):
        first = account_sync_now(cursor_key="eu-main")
        account_sync_now(cursor_key="eu-main")

    assert not first.ok and "'eu-main'" in first.error
    cursor = RunSyncCursor.objects.get(key="eu-main")
    assert cursor.consecutive_failures == 2
    assert "'eu-main'" in cursor.last_error and "integrator_account" in cursor.last_error
    (record, _) = [r for r in caplog.records if "account run sync (eu-main)" in r.getMessage()]
    assert record.exc_info is None
    assert TOKEN not in caplog.text and TOKEN not in cursor.last_error


@pytest.mark.django_db
@pytest.mark.parametrize("batch", [check_batch_run, sync_batch_run])
def test_a_tenant_on_such_an_account_is_told_why_not_internal_error(settings, caplog, batch):
    """A connection check or on-demand sync of a tenant on that account said "Internal error
    while syncing; see the worker log", with a traceback there per tenant."""
    settings.ENCRYPTION_KEYS = f"k1:{key_new()}"
    account = IntegratorAccount.objects.create(key="eu-main", name="EU", region="eu")
    template = IntegrationTemplateFactory(key="shop-to-erp-eu", account=account)
    tenant = TenantFactory(
        template=template, account=account, status=TenantStatus.ACTIVE, integration_id="i1"
    )
    sync_state_for(tenant=tenant)

    with caplog.at_level(logging.WARNING, logger="runs.batches"):
        result = batch(tenant_ids=[tenant.pk])

    assert result.failed == 1
    state = SyncState.objects.get(tenant=tenant)
    assert state.consecutive_failures == 1
    assert "integrator.io account 'eu-main' has no API token" in state.last_error
    assert "manage.py integrator_account eu-main" in state.last_error
    assert all(record.exc_info is None for record in caplog.records)
