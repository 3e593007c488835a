"""Scheduled flows run by themselves: the cron matched minute by minute in the flow's
timezone, once per minute, only enabled flows, a queued run not doubled; and end to end in
the sandbox process."""

import datetime as dt
import time

import pytest

from sandbox.models.accounts import Account
from sandbox.models.schedule_cron import schedule_matches
from sandbox.models.schedule_firing import MINUTE, ScheduleFiring
from sandbox.settings import SandboxSettings

UTC = dt.UTC
# Tuesday 2026-12-01 09:30 UTC.
TUESDAY_0930 = dt.datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("schedule", "moment", "expected"),
    [
        ("? * * ? * *", TUESDAY_0930, True),
        ("? */15 * ? * *", TUESDAY_0930, True),
        ("? */15 * ? * *", TUESDAY_0930.replace(minute=31), False),
        ("? 30 9 ? * *", TUESDAY_0930, True),
        ("? 30 10 ? * *", TUESDAY_0930, False),
        ("? 5/10 * * * ?", TUESDAY_0930.replace(minute=25), True),
        ("? 5/10 * * * ?", TUESDAY_0930.replace(minute=20), False),
        ("? 0-40/10 * ? * *", TUESDAY_0930, True),
        ("? 0-20/10 * ? * *", TUESDAY_0930, False),
        ("? 30 8-18/1 ? * MON-FRI", TUESDAY_0930, True),
        ("? 30 9 ? * SAT,SUN", TUESDAY_0930, False),
        ("? 30 9 ? * 2", TUESDAY_0930, True),  # Tuesday is 2 (Sunday 0)
        ("? 30 9 ? * 0", TUESDAY_0930.replace(day=6), True),  # a Sunday
        ("? 30 9 ? * 7", TUESDAY_0930.replace(day=6), True),  # 7 is Sunday too
        ("? 30 9 1 * ?", TUESDAY_0930, True),
        ("? 30 9 2 * ?", TUESDAY_0930, False),
        ("? 30 9 ? DEC ?", TUESDAY_0930, True),
        ("? 30 9 ? JAN ?", TUESDAY_0930, False),
        # Both day fields named: either one is enough.
        ("? 30 9 15 * TUE", TUESDAY_0930, True),
        ("? 30 9 1 * FRI", TUESDAY_0930, True),
        ("? 30 9 15 * FRI", TUESDAY_0930, False),
        ("0 30 9 * * *", TUESDAY_0930, False),  # not valid: never matches
        ("", TUESDAY_0930, False),
    ],
)
def test_a_schedule_matches_the_minutes_it_names(schedule, moment, expected):
    assert schedule_matches(schedule, moment) is expected


def _account() -> Account:
    return Account("t", "us", SandboxSettings(state_file=None), startup=True)


def _flow(account: Account, **fields) -> dict:
    return account.store.insert("flows", {"name": "F", "disabled": False, **fields})


def _epoch(moment: dt.datetime) -> float:
    return moment.timestamp()


def test_it_fires_each_due_flow_once_at_the_start_of_its_minute():
    account = _account()
    every_minute = _flow(account, schedule="? * * ? * *")
    quarterly = _flow(account, schedule="? */15 * ? * *")
    _flow(account, schedule="? * * ? * *", disabled=True)
    _flow(account, schedule=None)
    _flow(account, schedule="")
    _flow(account)
    firing = ScheduleFiring()
    start = _epoch(TUESDAY_0930) - 10  # 09:29:50

    # The first tick only notes its minute: nothing is due midway through a minute.
    assert firing.tick(start, [account]) == []
    assert firing.tick(start + 5, [account]) == []
    due = firing.tick(start + 11, [account])  # 09:30:01
    assert {flow["_id"] for _, flow in due} == {every_minute["_id"], quarterly["_id"]}
    assert all(owner is account for owner, _ in due)
    # The same minute again: nothing more.
    assert firing.tick(start + 40, [account]) == []
    nine_31 = firing.tick(start + 11 + MINUTE, [account])
    assert [flow["_id"] for _, flow in nine_31] == [every_minute["_id"]]


def test_it_reads_the_schedule_in_the_flows_timezone():
    account = _account()
    berlin = _flow(account, schedule="? 30 10 ? * *", timezone="Europe/Berlin")
    utc = _flow(account, schedule="? 30 10 ? * *")  # no timezone: UTC (assumptions.py)
    firing = ScheduleFiring()
    firing.tick(_epoch(TUESDAY_0930) - 1, [account])
    # 09:30 UTC is 10:30 in Berlin in December.
    assert [flow["_id"] for _, flow in firing.tick(_epoch(TUESDAY_0930), [account])] == [
        berlin["_id"]
    ]
    firing.tick(_epoch(TUESDAY_0930) + 59 * MINUTE, [account])
    assert [
        flow["_id"] for _, flow in firing.tick(_epoch(TUESDAY_0930) + 60 * MINUTE, [account])
    ] == [utc["_id"]]


def test_a_clock_that_jumps_ahead_does_not_catch_up_and_one_that_steps_back_is_followed():
    account = _account()
    _flow(account, schedule="? * * ? * *")
    firing = ScheduleFiring()
    firing.tick(_epoch(TUESDAY_0930), [account])
    assert len(firing.tick(_epoch(TUESDAY_0930) + 3 * 3600, [account])) == 1
    # Back by an hour (a test moving the account's clock): nothing in the minute it lands
    # in, then the schedule goes on from the next minute, not three hours later.
    back = _epoch(TUESDAY_0930) + 2 * 3600
    assert firing.tick(back, [account]) == []
    assert len(firing.tick(back + MINUTE, [account])) == 1


def test_a_minute_that_comes_while_the_previous_run_is_queued_is_skipped():
    account = _account()
    flow = _flow(account, schedule="? * * ? * *")
    account.jobs.settings = SandboxSettings(state_file=None, job_queue_seconds=3600.0)
    account.jobs.run_flow(flow)  # queued for an hour
    firing = ScheduleFiring()
    firing.tick(time.time() - MINUTE, [account])
    assert firing.tick(time.time(), [account]) == []


def _seconds_to_next_minute(offset: float) -> float:
    return MINUTE - (time.time() + offset) % MINUTE


def _flow_jobs(api, flow_id: str) -> list[dict]:
    response = api.get("/jobs", params={"_flowId": flow_id, "type": "flow"})
    assert response.status_code in (200, 204), response.text
    return response.json() if response.status_code == 200 else []


def test_the_sandbox_runs_an_enabled_scheduled_flow_by_itself(sandbox_clean, api):
    control = sandbox_clean.control
    # The clock put a day ahead first, as clock-skew tests do, and the scheduler left to see
    # it (it ticks every 2 s): schedules must not wait for that day once the clock is back.
    control.configure(clock_offset_seconds=86000.0)
    time.sleep(2.5)
    # The account's clock put 2.5 s before a minute, so that the test waits seconds, not a
    # minute.
    offset = (_seconds_to_next_minute(0.0) - 2.5) % MINUTE
    control.configure(clock_offset_seconds=offset, fire_schedules=True)
    scheduled = api.create(
        "flows", {"name": "Every minute", "disabled": False, "schedule": "? * * ? * *"}
    )
    disabled = api.create("flows", {"name": "Off", "disabled": True, "schedule": "? * * ? * *"})
    unscheduled = api.create("flows", {"name": "On demand", "disabled": False})
    deadline = time.monotonic() + _seconds_to_next_minute(offset) + 6
    while time.monotonic() < deadline and not _flow_jobs(api, scheduled["_id"]):
        time.sleep(0.3)
    jobs = _flow_jobs(api, scheduled["_id"])
    assert len(jobs) == 1
    assert api.get(f"/flows/{scheduled['_id']}").json()["lastExecutedAt"] == jobs[0]["createdAt"]
    assert _flow_jobs(api, disabled["_id"]) == []
    assert _flow_jobs(api, unscheduled["_id"]) == []


def test_with_fire_schedules_off_nothing_runs_by_itself(sandbox_clean, api):
    control = sandbox_clean.control
    offset = (_seconds_to_next_minute(0.0) - 1.5) % MINUTE
    control.configure(clock_offset_seconds=offset, fire_schedules=False)
    scheduled = api.create(
        "flows", {"name": "Every minute", "disabled": False, "schedule": "? * * ? * *"}
    )
    time.sleep(_seconds_to_next_minute(offset) + 4)
    assert _flow_jobs(api, scheduled["_id"]) == []
