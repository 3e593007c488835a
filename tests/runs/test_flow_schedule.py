"""When a flow runs next, from the 6-field cron the tenant's settings give it."""

from datetime import UTC, datetime

import pytest

from runs.flow_schedule import schedule_next
from tenants.settings_mapping import schedule_every

NOW = datetime(2026, 11, 29, 19, 7, 30, tzinfo=UTC)  # a Sunday


@pytest.mark.parametrize(
    ("schedule", "zone", "expected"),
    [
        (schedule_every(15), None, datetime(2026, 11, 29, 19, 15, tzinfo=UTC)),
        (schedule_every(60), None, datetime(2026, 11, 29, 20, 0, tzinfo=UTC)),
        (schedule_every(360), None, datetime(2026, 11, 30, 0, 0, tzinfo=UTC)),
        (schedule_every(1440), None, datetime(2026, 11, 30, 0, 0, tzinfo=UTC)),
        ("? 0 2 ? * *", "Europe/Berlin", datetime(2026, 11, 30, 1, 0, tzinfo=UTC)),
        ("? 30 8-18/2 ? * 1-5", None, datetime(2026, 11, 30, 8, 30, tzinfo=UTC)),
    ],
)
def test_it_finds_the_next_time(schedule, zone, expected):
    assert schedule_next(schedule, timezone=zone, after=NOW) == expected


@pytest.mark.parametrize("schedule", ["", None, "*/5 * * * *", "? 0 2 L * *", "? 61 * * * *"])
def test_what_it_does_not_understand_gives_none(schedule):
    assert schedule_next(schedule, timezone=None, after=NOW) is None
