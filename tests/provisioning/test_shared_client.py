"""The client a worker process shares between its jobs' threads, one per integrator.io
account (provisioning.lease.shared_client), follows the account as it is now: a rate set in
the admin (docs/performance.md: set it a little under integrator.io's where 429s appear)
holds for the next job, not only after the worker restarts."""

import time

import pytest

from core.accounts import integrator_account_default
from core.models import IntegratorAccount
from provisioning.lease import shared_client

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_rate_set_on_the_account_holds_for_the_next_job_without_a_restart(account):
    default = integrator_account_default()
    shared_client(default).get_token_info()  # the worker's client, made at the settings' rate
    IntegratorAccount.objects.filter(pk=default.pk).update(
        rate_limit_per_second=2, rate_limit_burst=2
    )
    default.refresh_from_db()  # as the next job reads its tenant's account

    client = shared_client(default)
    started = time.monotonic()
    for _ in range(4):
        client.get_token_info()
    elapsed = time.monotonic() - started

    # 2 calls a second, a burst of 2: the third and fourth calls wait half a second each.
    assert elapsed >= 0.9, elapsed
