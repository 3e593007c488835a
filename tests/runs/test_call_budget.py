"""The runs' share of the rate limit is a share of the tenant's own integrator.io account's
rate: an account given a rate of its own (lower than the settings') keeps the rest of it
for provisioning and people, as the default account does."""

import time

import pytest

from core.accounts import integrator_account_default
from core.models import IntegratorAccount
from runs.call_budget import build_runs_client

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_runs_share_is_of_the_accounts_own_rate_not_the_settings(account, settings):
    settings.INTEGRATOR_RATE_LIMIT_PER_SECOND = 300
    settings.RUNS_RATE_SHARE = 0.25
    default = integrator_account_default()
    IntegratorAccount.objects.filter(pk=default.pk).update(
        rate_limit_per_second=8, rate_limit_burst=8
    )
    default.refresh_from_db()

    with build_runs_client(account=default) as client:
        started = time.monotonic()
        for _ in range(4):
            client.get_token_info()
        elapsed = time.monotonic() - started

    # A quarter of 8 calls a second: 2 a second, a burst of 2, so the third and fourth calls
    # wait half a second each (at 75 a second, a quarter of the settings' 300, they did not).
    assert elapsed >= 0.9, elapsed
