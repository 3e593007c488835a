"""Timestamps as the API writes them (ISO 8601, UTC, milliseconds, "Z") and reads them."""

import datetime as dt
import re
import time

_EPOCH_MS = re.compile(r"^\d{10,}$")


class _Clock:
    """The account's wall clock: this machine's, shifted by `offset` seconds (the runtime
    setting `clock_offset_seconds`), so that tests can put integrator.io's clock ahead of or
    behind the service's, or step it back (sandbox/assumptions.py, "Flows and jobs")."""

    offset = 0.0


def clock_offset_set(seconds: float) -> None:
    _Clock.offset = float(seconds)


def wall_time() -> float:
    """Seconds since the epoch on the account's clock (every stamp the sandbox writes)."""
    return time.time() + _Clock.offset


def iso_from_epoch(seconds: float) -> str:
    moment = dt.datetime.fromtimestamp(seconds, tz=dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def now_iso() -> str:
    return iso_from_epoch(wall_time())


def epoch_from_query(value: str) -> float:
    """Parse a query date: ISO with or without milliseconds, a plain date, or epoch ms.

    Raises ValueError for anything else.
    """
    value = value.strip()
    if _EPOCH_MS.match(value):
        return int(value) / 1000
    text = value[:-1] + "+00:00" if value.endswith("Z") else value
    moment = dt.datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.timestamp()


def duration_text(seconds: float) -> str:
    """The job `duration` format, "HH:MM:SS.mmm"."""
    millis = max(0, round(seconds * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"
