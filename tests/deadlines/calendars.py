"""Calendars shared by the deadline tests."""

from __future__ import annotations

from datetime import date

from engine.deadlines.calendar import YearCalendar


def dates(*texts: str) -> frozenset[date]:
    """Dates from ISO texts."""
    return frozenset(date.fromisoformat(text) for text in texts)


# A hypothetical 2027 notice, deliberately unlike the provisional calendar: a bridge day after New
# Year, a nine-day Spring Festival block and two make-up Saturdays.
OVERRIDE_2027 = YearCalendar(
    2027,
    holidays=dates(
        "2027-01-01",
        "2027-01-04",
        "2027-02-05",
        "2027-02-08",
        "2027-02-09",
        "2027-02-10",
        "2027-02-11",
        "2027-02-12",
    ),
    workdays=dates("2027-01-09", "2027-02-20"),
)
