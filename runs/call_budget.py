"""The integrator.io client that runs' work uses, held to its share of the rate limit.

Budget: sync and connection checks together may use at most RUNS_RATE_SHARE (default 25%)
of the account's rate (its own `rate_limit_per_second`, else INTEGRATOR_RATE_LIMIT_PER_SECOND);
the rest stays free for provisioning and the API.
Of that share, `SYNC_PART` (80%) paces run sync and the remainder the scheduled connection
checks (15 calls/s at the defaults: 10,000 tenants with two connections, three calls each,
take 2,000 s, inside the hourly check interval).

The run sync is account-wide (`runs.account_sync`): a quiet cycle costs one call whatever
the number of tenants, a busy one a page per thousand new or changed runs plus a read per
long run still open, so it stays far inside its 60 calls/s; the share is a cap, not a
schedule. Every call takes a token from a Redis bucket of its own (the share of the rate)
before it takes one from the account-wide bucket shared with everyone else, so neither a
backlog of checks nor a burst of runs can spend more than the share.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.conf import settings

from core.accounts import account_api_url, account_rate_limit, account_token
from core.integrator_client import (
    Lane,
    MeasuredLimiter,
    lane_floor,
    observed_calls,
    rate_limit_redis,
    wait_bound,
    waiting_caller_limits,
)
from core.integrator_outage import integrator_breaker, integrator_send_pause
from core.models import IntegratorAccount
from core.namespace import account_rate_limit_prefix, redis_key
from integrator.client import IntegratorClient
from integrator.rate_limit import RedisTokenBucket
from integrator.transport import CallRecord
from tenants.call_costs import CallTally
from tenants.models import CallPurpose, Tenant

SYNC_PART = 0.8


def runs_bucket_prefix() -> str:
    """The runs' share has its own bucket, always in this deployment's namespace."""
    return redis_key("integrator:rate:runs")


def runs_calls_per_second(account: IntegratorAccount | None = None) -> float:
    """The runs' share of the account's rate (its own, else the settings')."""
    if account is None:
        return settings.RUNS_RATE_SHARE * settings.INTEGRATOR_RATE_LIMIT_PER_SECOND
    return settings.RUNS_RATE_SHARE * account_rate_limit(account)[1]


def sync_calls_per_second() -> float:
    return runs_calls_per_second() * SYNC_PART


def check_calls_per_second() -> float:
    return runs_calls_per_second() * (1 - SYNC_PART)


class CallCounter:
    """Counts the HTTP attempts a client makes (its `on_call`); refusals by our own limiter
    are not calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, record: CallRecord) -> None:
        if record.error_code != "rate_limit_wait":
            self.calls += 1


class StackedLimiter:
    """Takes a token from each bucket in turn: the runs' share, then the account's."""

    def __init__(self, *buckets: RedisTokenBucket) -> None:
        self.buckets = buckets

    def acquire(self) -> float:
        return sum(bucket.acquire() for bucket in self.buckets)

    def drain(self, seconds: float) -> None:
        for bucket in self.buckets:
            bucket.drain(seconds)


def build_runs_client(
    *,
    account: IntegratorAccount,
    counter: Callable[[CallRecord], None] | None = None,
    interactive: bool = False,
) -> IntegratorClient:
    """A client of `account` (the tenant's) whose every call is paid from the runs' share
    and the account's bucket. `counter` is told of each call (a `CallCounter`, or a
    tenant's `CallTally`). `interactive`: a caller is waiting, so no long waits (see
    core.integrator_client)."""
    max_wait = wait_bound(interactive=interactive)
    lane: Lane = "interactive" if interactive else "background"
    token = account_token(account)
    burst, per_second = account_rate_limit(account)
    connection = rate_limit_redis()
    share = runs_calls_per_second(account)
    runs_bucket = RedisTokenBucket(
        connection,
        token=token,
        key_prefix=runs_bucket_prefix(),
        burst=max(1, int(burst * settings.RUNS_RATE_SHARE)),
        per_second=share,
        max_wait=max_wait,
    )
    # A person waiting (run now) goes in the interactive lane; the sync is background work,
    # behind jobs and people (core.integrator_client.lane_floor).
    account_bucket = RedisTokenBucket(
        connection,
        token=token,
        key_prefix=account_rate_limit_prefix(),
        burst=burst,
        per_second=per_second,
        max_wait=max_wait,
        floor=lane_floor(lane, burst=burst),
    )
    return IntegratorClient(
        account_api_url(account),
        token,
        timeout=settings.INTEGRATOR_TIMEOUT_SECONDS,
        trust_env=settings.INTEGRATOR_TRUST_ENV,
        rate_limiter=MeasuredLimiter(StackedLimiter(runs_bucket, account_bucket), lane=lane),
        on_call=observed_calls(lane, counter, account=account),
        # The account's breaker and Retry-After pause hold for the sync too.
        circuit_breaker=integrator_breaker(connection, account),
        send_pause=integrator_send_pause(connection, token=token),
        max_pause_wait=max_wait,
        **waiting_caller_limits(interactive=interactive),
    )


@contextmanager
def tenant_runs_client(
    *, tenant: Tenant, interactive: bool = False, purpose: str = CallPurpose.RUNS
) -> Iterator[IntegratorClient]:
    """A runs client for work on one tenant's own runs (a flow run now, a run followed to its
    end, a run's errors read, resolved or retried; its connections checked on request), whose
    calls count in the tenant's costs under `purpose`: one upsert when it closes, as a form
    submission's."""
    tally = CallTally(tenant_id=tenant.pk, purpose=purpose)
    try:
        with build_runs_client(
            account=tenant.account, counter=tally, interactive=interactive
        ) as client:
            yield client
    finally:
        tally.flush()
