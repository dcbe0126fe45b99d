"""Working days of mainland China, for counting statutory deadlines.

A day is a working day when it is Monday–Friday and not a statutory holiday (including the rest days
the State Council's annual notice moves into a holiday block), or when it is a weekend day the notice
turns into a make-up working day (调休上班).

Where the year's notice is known — an admin override (``YearCalendar``), else the ``chinesecalendar``
data (2004–2026 in 1.11) — it is followed exactly. For any other year deadlines must still be
computed (intake never stops), so the year is built **provisionally** from what the law itself fixes
(《全国年节及纪念日放假办法》): weekends plus the statutory holidays, without the make-up days and
without moving holidays that fall on a weekend, which only the annual notice decides. Every result
that consulted such a year says so, so the UI can mark the deadline provisional and it can be
recomputed once the year is published.

Performance: each year is materialised once into a table of per-day working flags and a running
count, so ``is_workday`` is an index lookup and ``add_workdays``/``working_days_between`` cost a
binary search per year crossed, independent of the period length.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import accumulate

import chinese_calendar
from lunardate import LunarDate

__all__ = [
    "WorkdayCalendar",
    "YearCalendar",
    "statutory_holidays",
]

_ONE_DAY = timedelta(days=1)

# The years chinesecalendar holds data for, derived from its data rather than hard-coded so an
# upgrade of the pinned package extends coverage without code changes.
_CC_FIRST_YEAR: int = min(chinese_calendar.holidays).year
_CC_LAST_YEAR: int = max(chinese_calendar.holidays).year

# The lunar and solar-term computations are only defined for this range (lunardate: 1900–2099).
_PROVISIONAL_FIRST_YEAR = 1900
_PROVISIONAL_LAST_YEAR = 2099


@dataclass(frozen=True)
class YearCalendar:
    """A published year, as an admin enters it from the State Council's annual notice.

    ``holidays``: every weekday on which people rest (statutory holidays and the days moved into the
    holiday block); weekend holidays may be listed too, they change nothing. ``workdays``: the
    weekend days worked instead (调休上班). Any other day follows Monday–Friday.
    """

    year: int
    holidays: frozenset[date]
    workdays: frozenset[date]

    def __post_init__(self) -> None:
        # Accept any iterable of dates from callers (e.g. rows from the database), store frozensets.
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        object.__setattr__(self, "workdays", frozenset(self.workdays))
        for label, days in (("holiday", self.holidays), ("make-up working day", self.workdays)):
            for day in days:
                if isinstance(day, datetime) or not isinstance(day, date):
                    raise TypeError(f"{label} {day!r} of the {self.year} calendar must be a date")
                if day.year != self.year:
                    raise ValueError(f"{day.isoformat()} 不在 {self.year} 年内 / "
                                     f"{label} {day.isoformat()} is not in year {self.year}")
        both = self.holidays & self.workdays
        if both:
            listed = ", ".join(sorted(day.isoformat() for day in both))
            raise ValueError(f"{listed} 不能既是节假日又是调休工作日 / {self.year}: days listed both as holiday and as "
                             f"working day: {listed}")


# --- what the law itself fixes ---------------------------------------------------------------


def _spring_festival_day_one(year: int) -> date:
    first_day: date = LunarDate(year, 1, 1).to_solar_date()
    return first_day


def _qingming(year: int) -> date:
    """The Qingming solar term (清明) of ``year``: the statutory holiday is that very day."""
    terms: list[tuple[date, str]] = chinese_calendar.get_solar_terms(date(year, 4, 1), date(year, 4, 30))
    for day, name in terms:
        if name == "清明":
            return day
    raise AssertionError(f"no Qingming solar term found in April {year}")  # pragma: no cover


def statutory_holidays(year: int) -> dict[date, str]:
    """The holidays 《全国年节及纪念日放假办法》 itself fixes for ``year`` (date → festival name).

    Only the fixed days: not the rest days the annual notice adds around them, nor the compensation
    day for a holiday falling on a weekend (art. 6 requires one, but the notice picks the day).
    Follows the version of the measures in force that year, so past years can be checked against
    published calendars:

    - from 2025 (2024 amendment): New Year 1 day; Spring Festival 4 days, eve (除夕) to the 3rd day
      (初三); Qingming 1; 1–2 May; Dragon Boat 1; Mid-Autumn 1; 1–3 October;
    - 2014–2024 (2013 amendment): Spring Festival 1st–3rd day; 1 May only;
    - 2008–2013 (2007 amendment): Spring Festival eve to the 2nd day; 1 May only;
    - before 2008 (1999 amendment, used for every earlier year): Spring Festival 1st–3rd day;
      1–3 May; no Qingming, Dragon Boat or Mid-Autumn holiday.

    The eve is the day before lunar 1/1 (not "lunar 12/30": the 12th month may have 29 days).
    """
    if not _PROVISIONAL_FIRST_YEAR <= year <= _PROVISIONAL_LAST_YEAR:
        raise ValueError(
            f"无法推算 {year} 年的节假日，请录入该年的节假日安排 / "
            f"no lunar calendar for {year}: provisional holidays can be computed for "
            f"{_PROVISIONAL_FIRST_YEAR}–{_PROVISIONAL_LAST_YEAR} only; add an override for {year}"
        )
    day_one = _spring_festival_day_one(year)
    eve = day_one - _ONE_DAY
    if year >= 2025:
        spring = [eve, day_one, day_one + _ONE_DAY, day_one + 2 * _ONE_DAY]
    elif year >= 2014:
        spring = [day_one, day_one + _ONE_DAY, day_one + 2 * _ONE_DAY]
    elif year >= 2008:
        spring = [eve, day_one, day_one + _ONE_DAY]
    else:
        spring = [day_one, day_one + _ONE_DAY, day_one + 2 * _ONE_DAY]

    result: dict[date, str] = {date(year, 1, 1): "元旦"}
    for day in spring:
        result[day] = "春节"
    if year >= 2008:
        result[_qingming(year)] = "清明节"
    labour_days = 2 if year >= 2025 else 1 if year >= 2008 else 3
    for number in range(1, labour_days + 1):
        result[date(year, 5, number)] = "劳动节"
    if year >= 2008:
        result[LunarDate(year, 5, 5).to_solar_date()] = "端午节"
        result[LunarDate(year, 8, 15).to_solar_date()] = "中秋节"
    for number in (1, 2, 3):
        # Mid-Autumn can fall on 1 October (e.g. 2020): National Day keeps the date, the law's
        # holidays are a set of days and the notice decides the extra day.
        result[date(year, 10, number)] = "国庆节"
    return result


# --- per-year tables ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _YearTable:
    """One year, materialised: ``flags[i]`` is 1 when day ``i`` (0 = 1 January) is a working day;
    ``counts[i]`` is the number of working days among days ``0 .. i-1`` (so ``counts[-1]`` is the
    year's total)."""

    first_ordinal: int
    flags: bytes
    counts: tuple[int, ...]
    known: bool


def _build_table(
    year: int, holidays: frozenset[date] | set[date], workdays: frozenset[date] | set[date], *, known: bool
) -> _YearTable:
    first = date(year, 1, 1)
    days = (date(year + 1, 1, 1) - first).days
    flags = bytearray(days)
    day = first
    for index in range(days):
        if day in workdays or (day.weekday() < 5 and day not in holidays):
            flags[index] = 1
        day += _ONE_DAY
    counts = (0, *accumulate(flags))
    return _YearTable(first.toordinal(), bytes(flags), counts, known)


def _require_date(value: date, name: str) -> None:
    # A datetime is a date subclass: accepting one would silently take its own (maybe UTC) date
    # instead of the Asia/Shanghai date the law counts in.
    if isinstance(value, datetime) or not isinstance(value, date):
        raise TypeError(f"{name} must be a date (convert datetimes to the Asia/Shanghai date), got {value!r}")


class WorkdayCalendar:
    """Working days, from admin overrides, else chinesecalendar, else provisionally from the law.

    Immutable once built: ``engine.deadlines.config`` builds a new one when an override is added, and
    recomputes the deadlines that were provisional.
    """

    def __init__(self, overrides: Mapping[int, YearCalendar] | None = None) -> None:
        self._overrides: dict[int, YearCalendar] = {}
        for year, calendar in (overrides or {}).items():
            if calendar.year != year:
                raise ValueError(f"override filed under {year} is for year {calendar.year}")
            self._overrides[year] = calendar
        self._tables: dict[int, _YearTable] = {}

    @property
    def overrides(self) -> Mapping[int, YearCalendar]:
        return dict(self._overrides)

    def is_known(self, year: int) -> bool:
        """Whether ``year``'s published holidays are known (override or chinesecalendar data)."""
        return year in self._overrides or _CC_FIRST_YEAR <= year <= _CC_LAST_YEAR

    def _table(self, year: int) -> _YearTable:
        table = self._tables.get(year)
        if table is None:
            table = self._make_table(year)
            # Benign race: two threads may both build the same immutable table.
            self._tables[year] = table
        return table

    def _make_table(self, year: int) -> _YearTable:
        override = self._overrides.get(year)
        if override is not None:
            return _build_table(year, override.holidays, override.workdays, known=True)
        if _CC_FIRST_YEAR <= year <= _CC_LAST_YEAR:
            # Read chinesecalendar's data once instead of calling is_workday per day.
            holidays = {day for day in chinese_calendar.holidays if day.year == year}
            workdays = {day for day in chinese_calendar.workdays if day.year == year}
            return _build_table(year, holidays, workdays, known=True)
        return _build_table(year, set(statutory_holidays(year)), set(), known=False)

    # --- single days ---

    def is_workday(self, day: date) -> bool:
        """Whether ``day`` is a working day (provisional answer for years not yet published)."""
        _require_date(day, "day")
        table = self._table(day.year)
        return table.flags[day.toordinal() - table.first_ordinal] == 1

    def is_rest_day(self, day: date) -> bool:
        """Weekend or holiday, i.e. a 法定休假日 in the sense of 民法典 art. 203."""
        return not self.is_workday(day)

    # --- counting ---

    def add_workdays(self, start: date, n: int) -> tuple[date, bool]:
        """The ``n``-th working day after ``start`` (start day not counted, 民法典 art. 201), and
        whether any year consulted (those of the days after ``start`` up to the result) is
        provisional. ``n == 0`` returns ``start`` itself, not provisional."""
        _require_date(start, "start")
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        if n == 0:
            return start, False
        first = start.toordinal() + 1  # the first day that counts
        year = date.fromordinal(first).year
        table = self._table(year)
        offset = first - table.first_ordinal
        provisional = False
        while True:
            provisional = provisional or not table.known
            counts = table.counts
            target = counts[offset] + n
            if target <= counts[-1]:
                # smallest j with counts[j] == target: day j-1 is the n-th working day
                index = bisect_left(counts, target, offset + 1) - 1
                return date.fromordinal(table.first_ordinal + index), provisional
            n = target - counts[-1]
            year += 1
            table = self._table(year)
            offset = 0

    def add_calendar_days(self, start: date, n: int) -> tuple[date, bool]:
        """``start + n`` days; when that last day is a rest day or holiday, the first working day
        after it (民法典 art. 203). Provisional when the year of any day examined — the nominal last
        day and those skipped after it — is provisional; the days in between do not matter."""
        _require_date(start, "start")
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        return self.add_workdays(start + timedelta(days=n - 1), 1)

    def working_days_between(self, a: date, b: date) -> int:
        """Working days in ``(a, b]``; 0 when ``b <= a``."""
        _require_date(a, "a")
        _require_date(b, "b")
        if b <= a:
            return 0
        table_a = self._table(a.year)
        table_b = self._table(b.year)
        through_a = table_a.counts[a.toordinal() - table_a.first_ordinal + 1]
        through_b = table_b.counts[b.toordinal() - table_b.first_ordinal + 1]
        if a.year == b.year:
            return through_b - through_a
        middle = sum(self._table(year).counts[-1] for year in range(a.year + 1, b.year))
        return table_a.counts[-1] - through_a + middle + through_b

    def spans_unknown_year(self, a: date, b: date) -> bool:
        """Whether any day of ``(a, b]`` lies in a year that is not known, i.e. whether
        ``working_days_between(a, b)`` is provisional."""
        _require_date(a, "a")
        _require_date(b, "b")
        if b <= a:
            return False
        return any(not self.is_known(year) for year in range((a + _ONE_DAY).year, b.year + 1))
