"""Scheduled flows run by themselves: what integrator.io's scheduler does for an enabled flow
with a `schedule`, in the flow's `timezone` (sandbox/assumptions.py, "Flows and jobs").

`ScheduleFiring.tick` is called every couple of seconds (sandbox/app.py) with the account's
clock; at the first tick of each new minute it starts a run of every enabled flow whose
schedule names that minute, as `POST /flows/{id}/run` would. A minute is looked at once: a
second tick in the same minute fires nothing, and a clock that jumps ahead (or a sandbox that
was stopped) does not catch up the minutes in between; a clock stepped back is followed from
its next minute.
"""

from __future__ import annotations

import datetime as dt
import math
import zoneinfo
from collections.abc import Iterable

from sandbox import assumptions
from sandbox.models.accounts import Account
from sandbox.models.job_engine import JobEngine
from sandbox.models.schedule_cron import schedule_matches
from sandbox.models.store import Store

MINUTE = 60


class ScheduleFiring:
    def __init__(self) -> None:
        # The last minute looked at (epoch seconds // 60); None until the first tick, which
        # only notes the minute it starts in: a run is due at a minute's start, not midway.
        self._minute: int | None = None

    def tick(
        self, now: float, accounts: Iterable[Account], *, firing: bool = True
    ) -> list[tuple[Account, dict]]:
        """The flows due in the minute `now` falls in, with their accounts, once per minute
        (the caller runs them). Not `firing`: the minute is noted and no flow is looked at."""
        minute = math.floor(now / MINUTE)
        if self._minute is None or minute <= self._minute or not firing:
            # A clock stepped back (the runtime setting `clock_offset_seconds`) is followed
            # from its next minute on: waiting for the old minute would stop every schedule
            # for as long as the clock went back.
            self._minute = minute
            return []
        self._minute = minute
        return [
            (account, flow)
            for account in accounts
            for flow in flows_due(account.store, account.jobs, minute * MINUTE)
        ]


def flows_due(store: Store, jobs: JobEngine, at: float) -> list[dict]:
    """The account's enabled, scheduled flows whose schedule names the minute starting at `at`
    (epoch seconds), less those whose previous run has not started yet."""
    waiting = (
        jobs.flows_with_queued_runs() if assumptions.SCHEDULED_RUN_SKIPPED_WHILE_QUEUED else set()
    )
    moment = dt.datetime.fromtimestamp(at, tz=dt.UTC)
    due = []
    for flow in store.values("flows"):
        schedule = flow.get("schedule")
        if flow.get("disabled") or not isinstance(schedule, str) or not schedule.strip():
            continue
        local = moment.astimezone(_zone(flow.get("timezone")))
        if not schedule_matches(schedule, local):
            continue
        if flow["_id"] in waiting:
            continue
        due.append(flow)
    return due


def _zone(name: object) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name if isinstance(name, str) and name else "")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(assumptions.DEFAULT_FLOW_TIMEZONE)
