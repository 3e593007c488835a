"""When a flow runs next on its schedule: integrator.io's 6-field cron (`? minute hour
day-of-month month day-of-week`, docs/integrator-io.md "Flows"), read in the flow's timezone.

Computed, not read: the mirror keeps no schedule, and the schedule the tenant's settings map
to (tenants.settings_mapping) is the one its integration is reconciled to. A field this does
not understand (names such as MON or JAN, Quartz's L, W, #) gives None: the page then says
nothing rather than something wrong.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# Long enough for any weekly schedule; a schedule that fires less often shows no next run.
_HORIZON = timedelta(days=8)
_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))


def schedule_next(
    schedule: str | None, *, timezone: str | None, after: datetime
) -> datetime | None:
    """The first time after `after` (aware) that the cron fires, in UTC; None if unknown."""
    fields = (schedule or "").split()
    if len(fields) != 6 or fields[0] != "?":
        return None
    try:
        zone = ZoneInfo(timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    try:
        allowed = [
            _values(text, low, high) for text, (low, high) in zip(fields[1:], _RANGES, strict=True)
        ]
    except ValueError:
        return None
    minutes, hours, days, months, weekdays = allowed
    if 7 in weekdays:
        weekdays.add(0)
    any_day, any_weekday = fields[3] in ("*", "?"), fields[5] in ("*", "?")
    moment = after.astimezone(zone).replace(second=0, microsecond=0) + timedelta(minutes=1)
    end = moment + _HORIZON
    while moment < end:
        if moment.month not in months or not _day_matches(
            moment, days, weekdays, any_day=any_day, any_weekday=any_weekday
        ):
            moment = (moment + timedelta(days=1)).replace(hour=0, minute=0)
            continue
        if moment.hour not in hours:
            moment = (moment + timedelta(hours=1)).replace(minute=0)
            continue
        if moment.minute in minutes:
            return moment.astimezone(ZoneInfo("UTC"))
        moment += timedelta(minutes=1)
    return None


def _day_matches(moment: datetime, days, weekdays, *, any_day: bool, any_weekday: bool) -> bool:
    weekday = (moment.weekday() + 1) % 7  # cron: 0 is Sunday
    if any_day and any_weekday:
        return True
    if any_day:
        return weekday in weekdays
    if any_weekday:
        return moment.day in days
    return moment.day in days or weekday in weekdays  # cron's "either" when both are given


def _values(text: str, low: int, high: int) -> set[int]:
    found: set[int] = set()
    for part in text.split(","):
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if step < 1:
            raise ValueError(part)
        if base in ("*", "?"):
            start, stop = low, high
        elif "-" in base:
            first, _, last = base.partition("-")
            start, stop = int(first), int(last)
        else:
            start = int(base)
            stop = high if step_text else start
        if not low <= start <= stop <= high:
            raise ValueError(part)
        found.update(range(start, stop + 1, step))
    return found
