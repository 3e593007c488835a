"""Flow schedules: integrator.io's 6-field cron, checked field by field, and matched against a
minute (scheduled flows run by themselves: schedule_firing.py).

The fields, in order: second, minute, hour, day of month, month, day of week (Quartz's order,
without the year). integrator.io schedules to the minute and writes the second as `?`, e.g.
`? 0 2 ? * *` (every day at 02:00) or `? */15 * ? * *`. A 5-field (Unix) cron is refused with
"Invalid cron expression". Which syntax each field takes is not documented beyond the examples;
the sandbox accepts the common cron forms (assumptions.py, "Flows and jobs").
"""

import dataclasses
import datetime as dt

from sandbox import assumptions

MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
DAY_NAMES = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


@dataclasses.dataclass(frozen=True)
class CronField:
    low: int
    high: int
    # Names standing for name_base, name_base + 1, ... (JAN = 1, SUN = 0).
    names: tuple[str, ...] = ()
    name_base: int = 0
    # `?` ("no specific value") is only meaningful in the two day fields.
    allows_unspecified: bool = False


# Minute, hour, day of month, month, day of week: the fields after the second.
CRON_FIELDS = (
    CronField(0, 59),
    CronField(0, 23),
    CronField(1, 31, allows_unspecified=True),
    CronField(1, 12, names=MONTH_NAMES, name_base=1),
    CronField(*assumptions.CRON_DAY_OF_WEEK_RANGE, names=DAY_NAMES, allows_unspecified=True),
)


def is_valid_schedule(text: str) -> bool:
    """True for a 6-field cron whose second is `?` and whose other fields parse."""
    parts = text.split()
    if len(parts) != 1 + len(CRON_FIELDS) or parts[0] != assumptions.CRON_SECOND_FIELD:
        return False
    return all(_field_ok(part, field) for part, field in zip(parts[1:], CRON_FIELDS, strict=True))


def _field_ok(text: str, field: CronField) -> bool:
    if text == "?":
        return field.allows_unspecified
    return all(_item_ok(item, field) for item in text.split(","))


def _item_ok(item: str, field: CronField) -> bool:
    """`*`, `n`, `a-b`, each optionally stepped by `/s` (`*/15`, `0-30/5`, `5/10`)."""
    base, slash, step = item.partition("/")
    if slash and not (step.isdigit() and 1 <= int(step) <= field.high):
        return False
    if base == "*":
        return True
    first_text, dash, last_text = base.partition("-")
    first = _value(first_text, field)
    if first is None:
        return False
    if not dash:
        return True
    last = _value(last_text, field)
    return last is not None and first <= last


def _value(text: str, field: CronField) -> int | None:
    if text.isdigit():
        number = int(text)
        return number if field.low <= number <= field.high else None
    upper = text.upper()
    if upper in field.names:
        return field.names.index(upper) + field.name_base
    return None


def schedule_matches(text: str, moment: dt.datetime) -> bool:
    """Whether the minute of `moment` (in the flow's own timezone) is one the schedule names.

    Day of month and day of week: a `?` or `*` in either leaves the other to decide; when both
    name days, either one matching is enough (cron's usual rule; integrator.io documents
    neither). Day of week 0 and 7 are both Sunday. An invalid schedule matches nothing.
    """
    if not is_valid_schedule(text):
        return False
    minute, hour, day, month, weekday = text.split()[1:]
    fields = CRON_FIELDS
    if not (
        moment.minute in _values(minute, fields[0])
        and moment.hour in _values(hour, fields[1])
        and moment.month in _values(month, fields[3])
    ):
        return False
    sunday_first = (moment.weekday() + 1) % 7  # Python's Monday 0 -> cron's Sunday 0
    day_ok = moment.day in _values(day, fields[2])
    weekday_values = {value % 7 for value in _values(weekday, fields[4])}
    weekday_ok = sunday_first in weekday_values
    if _unrestricted(day):
        return weekday_ok
    if _unrestricted(weekday):
        return day_ok
    return day_ok or weekday_ok


def _unrestricted(text: str) -> bool:
    return text in ("?", "*")


def _values(text: str, field: CronField) -> set[int]:
    """Every value a (valid) field names."""
    if text == "?":
        return set(range(field.low, field.high + 1))
    values: set[int] = set()
    for item in text.split(","):
        base, slash, step_text = item.partition("/")
        step = int(step_text) if slash else 1
        if base == "*":
            first, last = field.low, field.high
        else:
            first_text, dash, last_text = base.partition("-")
            first = _value(first_text, field)
            # `5/10`: from 5 to the field's end, every 10 (Quartz); `5` alone: just 5.
            last = _value(last_text, field) if dash else (field.high if slash else first)
        values.update(range(first, last + 1, step))
    return values
