"""The one clock of the product.

Every "now" — intake, deadlines, the sweep, SpiffWorkflow's timer checks — comes from a ``Clock``
passed in at wiring time, so tests move time instead of sleeping. All values are timezone-aware.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware."""
        ...


class SystemClock:
    """Real time."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that only moves when told to: for tests, the CLI's ``sweep --at`` and benchmarks."""

    def __init__(self, start: datetime) -> None:
        self._now = ensure_aware(start)

    def now(self) -> datetime:
        return self._now

    def set(self, instant: datetime) -> None:
        self._now = ensure_aware(instant)

    def advance(self, delta: timedelta) -> datetime:
        self._now += delta
        return self._now


def ensure_aware(value: datetime) -> datetime:
    """Refuse naive datetimes loudly: a naive value is a bug, not a local time."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"时间须带时区（如 +08:00）/ naive datetime {value!r}: a timezone is required")
    return value


def chinese_date(value: datetime | date | None) -> str:
    """``2026年11月27日``: a date as Chinese documents and pages write it (an instant's day in China);
    empty for no date."""
    if value is None:
        return ""
    day = value.astimezone(SHANGHAI).date() if isinstance(value, datetime) else value
    return f"{day.year}年{day.month}月{day.day}日"
