"""WorkdayCalendar: published years (chinesecalendar, overrides) and provisional years from the law."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import chinese_calendar
import pytest
from lunardate import LunarDate

from engine.clock import SHANGHAI
from engine.deadlines.calendar import WorkdayCalendar, YearCalendar, statutory_holidays
from tests.deadlines.calendars import OVERRIDE_2027, dates

D = date.fromisoformat


@pytest.fixture(scope="module")
def calendar() -> WorkdayCalendar:
    return WorkdayCalendar()


@pytest.fixture(scope="module")
def calendar_2027() -> WorkdayCalendar:
    return WorkdayCalendar({2027: OVERRIDE_2027})


# --- known years -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        pytest.param("2026-01-01", False, id="2026-new-year"),
        pytest.param("2026-01-02", False, id="2026-new-year-bridge-friday"),
        pytest.param("2026-01-04", True, id="2026-makeup-sunday-01-04"),
        pytest.param("2026-02-14", True, id="2026-makeup-saturday-02-14"),
        pytest.param("2026-02-16", False, id="2026-spring-festival-eve"),
        pytest.param("2026-02-23", False, id="2026-spring-festival-last-day"),
        pytest.param("2026-02-24", True, id="2026-first-day-after-spring-festival"),
        pytest.param("2026-02-28", True, id="2026-makeup-saturday-02-28"),
        pytest.param("2026-04-06", False, id="2026-qingming-monday-off"),
        pytest.param("2026-05-05", False, id="2026-labour-day-block-tuesday"),
        pytest.param("2026-05-09", True, id="2026-makeup-saturday-05-09"),
        pytest.param("2026-06-19", False, id="2026-dragon-boat"),
        pytest.param("2026-09-20", True, id="2026-makeup-sunday-09-20"),
        pytest.param("2026-09-25", False, id="2026-mid-autumn"),
        pytest.param("2026-10-07", False, id="2026-national-day-last-day"),
        pytest.param("2026-10-10", True, id="2026-makeup-saturday-10-10"),
        pytest.param("2026-11-21", False, id="2026-ordinary-saturday"),
        pytest.param("2026-11-18", True, id="2026-ordinary-wednesday"),
    ],
)
def test_is_workday_2026(calendar: WorkdayCalendar, day: str, expected: bool) -> None:
    assert calendar.is_workday(D(day)) is expected
    assert calendar.is_rest_day(D(day)) is (not expected)


def test_known_years_match_chinesecalendar_day_by_day(calendar: WorkdayCalendar) -> None:
    day, mismatches = date(2004, 1, 1), []
    while day.year <= 2026:
        if calendar.is_workday(day) != chinese_calendar.is_workday(day):
            mismatches.append(day)
        day += timedelta(days=1)
    assert mismatches == []


@pytest.mark.parametrize(
    ("year", "overrides", "expected"),
    [
        pytest.param(2003, {}, False, id="2003-before-chinesecalendar"),
        pytest.param(2004, {}, True, id="2004-first-chinesecalendar-year"),
        pytest.param(2026, {}, True, id="2026-last-chinesecalendar-year"),
        pytest.param(2027, {}, False, id="2027-unpublished"),
        pytest.param(2027, {2027: OVERRIDE_2027}, True, id="2027-with-override"),
    ],
)
def test_is_known(year: int, overrides: dict[int, YearCalendar], expected: bool) -> None:
    assert WorkdayCalendar(overrides).is_known(year) is expected


# --- add_workdays ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        pytest.param("2026-11-18", 7, "2026-11-27", id="doc-example-wed-7wd-to-fri"),
        pytest.param("2026-11-21", 1, "2026-11-23", id="start-on-saturday-counts-from-monday"),
        pytest.param("2025-12-31", 1, "2026-01-04", id="new-year-2026-first-wd-is-makeup-sunday"),
        pytest.param("2025-12-31", 3, "2026-01-06", id="new-year-2026-3wd"),
        pytest.param("2026-02-12", 7, "2026-02-28", id="spring-festival-2026-both-makeup-saturdays"),
        pytest.param("2026-02-13", 1, "2026-02-14", id="spring-festival-2026-makeup-02-14"),
        pytest.param("2026-02-14", 1, "2026-02-24", id="spring-festival-2026-skips-holiday-block"),
        pytest.param("2026-04-29", 5, "2026-05-09", id="labour-day-2026-ends-on-makeup-05-09"),
        pytest.param("2026-09-18", 7, "2026-09-29", id="mid-autumn-2026-makeup-09-20"),
        pytest.param("2026-09-29", 5, "2026-10-12", id="national-day-2026-makeup-10-10"),
        pytest.param("2026-04-14", 45, "2026-06-18", id="45wd-across-labour-day-and-before-dragon-boat"),
        pytest.param("2026-12-01", 7, "2026-12-10", id="december-2026-stays-in-known-year"),
        pytest.param("2026-11-18", 0, "2026-11-18", id="zero-days-is-start"),
    ],
)
def test_add_workdays_known_years(calendar: WorkdayCalendar, start: str, n: int, expected: str) -> None:
    assert calendar.add_workdays(D(start), n) == (D(expected), False)


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        pytest.param("2026-12-28", 7, "2027-01-07", id="late-dec-2026-into-2027-new-year"),
        pytest.param("2026-12-31", 1, "2027-01-04", id="dec-31-new-year-friday-then-weekend"),
        pytest.param("2027-02-01", 7, "2027-02-12", id="spring-festival-2027-eve-02-05-to-02-08"),
        pytest.param("2027-04-02", 1, "2027-04-06", id="qingming-2027-monday-04-05"),
        pytest.param("2027-06-08", 1, "2027-06-10", id="dragon-boat-2027-06-09"),
        pytest.param("2027-09-14", 1, "2027-09-16", id="mid-autumn-2027-09-15"),
        pytest.param("2027-04-30", 1, "2027-05-03", id="labour-day-2027-sat-sun-no-makeup"),
        pytest.param("2027-09-30", 1, "2027-10-04", id="national-day-2027-fri-sun"),
    ],
)
def test_add_workdays_unknown_year_is_provisional(calendar: WorkdayCalendar, start: str, n: int, expected: str) -> None:
    assert calendar.add_workdays(D(start), n) == (D(expected), True)


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        pytest.param("2026-12-28", 7, "2027-01-08", id="override-bridge-day-01-04"),
        pytest.param("2027-01-08", 1, "2027-01-09", id="override-makeup-saturday"),
        pytest.param("2027-02-01", 7, "2027-02-18", id="override-spring-festival-block"),
        pytest.param("2027-02-19", 1, "2027-02-20", id="override-makeup-saturday-02-20"),
        pytest.param("2027-04-02", 1, "2027-04-05", id="override-silent-on-qingming-so-workday"),
    ],
)
def test_add_workdays_override_wins_and_is_not_provisional(
    calendar_2027: WorkdayCalendar, start: str, n: int, expected: str
) -> None:
    assert calendar_2027.add_workdays(D(start), n) == (D(expected), False)


def test_override_wins_over_chinesecalendar_for_a_known_year() -> None:
    published = {day for day in chinese_calendar.holidays if day.year == 2026}
    corrected = YearCalendar(
        2026,
        holidays=frozenset(published | {D("2026-11-20")}),
        workdays=frozenset(day for day in chinese_calendar.workdays if day.year == 2026),
    )
    calendar = WorkdayCalendar({2026: corrected})
    assert calendar.add_workdays(D("2026-11-18"), 7) == (D("2026-11-30"), False)
    assert calendar.is_workday(D("2026-11-20")) is False


# --- add_calendar_days -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "n", "expected", "provisional"),
    [
        pytest.param("2026-09-01", 30, "2026-10-08", False, id="ends-on-national-day-moves-to-10-08"),
        pytest.param("2026-09-10", 30, "2026-10-10", False, id="ends-on-makeup-saturday-stays"),
        pytest.param("2026-01-15", 30, "2026-02-14", False, id="ends-on-makeup-saturday-02-14-stays"),
        pytest.param("2026-01-16", 30, "2026-02-24", False, id="ends-in-spring-festival-moves-to-02-24"),
        pytest.param("2026-04-15", 60, "2026-06-15", False, id="ends-on-sunday-moves-to-monday"),
        pytest.param("2026-10-08", 30, "2026-11-09", False, id="ends-on-ordinary-saturday-moves-to-monday"),
        pytest.param("2026-03-01", 30, "2026-03-31", False, id="ends-on-working-day-unchanged"),
        pytest.param("2026-12-10", 60, "2027-02-09", True, id="ends-on-provisional-2027-third-day"),
        pytest.param("2026-11-01", 30, "2026-12-01", False, id="start-and-end-known"),
        pytest.param("2025-12-02", 30, "2026-01-04", False, id="ends-on-new-year-moves-to-makeup-sunday"),
    ],
)
def test_add_calendar_days(calendar: WorkdayCalendar, start: str, n: int, expected: str, provisional: bool) -> None:
    assert calendar.add_calendar_days(D(start), n) == (D(expected), provisional)


def test_add_calendar_days_with_2027_override(calendar_2027: WorkdayCalendar) -> None:
    # nominal last day 2027-02-08 is in the override's holiday block (05–14), 15th is a Monday
    assert calendar_2027.add_calendar_days(D("2026-12-10"), 60) == (D("2027-02-15"), False)


# --- working_days_between ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        pytest.param("2026-11-18", "2026-11-27", 7, id="doc-example-span"),
        pytest.param("2026-09-30", "2026-10-09", 2, id="across-national-day"),
        pytest.param("2025-12-31", "2026-01-05", 2, id="across-years-with-makeup-sunday"),
        pytest.param("2026-11-20", "2026-11-20", 0, id="same-day"),
        pytest.param("2026-11-27", "2026-11-20", 0, id="reversed-is-zero"),
        pytest.param("2026-11-20", "2026-11-22", 0, id="weekend-only"),
        pytest.param("2025-01-01", "2026-12-31", 248 + 248, id="two-whole-years-365-104-13-each"),
    ],
)
def test_working_days_between(calendar: WorkdayCalendar, a: str, b: str, expected: int) -> None:
    assert calendar.working_days_between(D(a), D(b)) == expected


def test_working_days_between_inverts_add_workdays(calendar: WorkdayCalendar) -> None:
    start = D("2026-10-20")
    for n in range(1, 120):
        end, _ = calendar.add_workdays(start, n)
        assert calendar.working_days_between(start, end) == n
        assert calendar.is_workday(end)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        pytest.param("2026-12-01", "2026-12-31", False, id="inside-2026"),
        pytest.param("2026-12-31", "2026-12-31", False, id="empty-span"),
        pytest.param("2026-12-30", "2027-01-02", True, id="into-2027"),
        pytest.param("2026-12-31", "2027-01-01", True, id="only-new-years-day-2027"),
    ],
)
def test_spans_unknown_year(calendar: WorkdayCalendar, a: str, b: str, expected: bool) -> None:
    assert calendar.spans_unknown_year(D(a), D(b)) is expected


# --- provisional holidays from the law ---------------------------------------------------------


STATUTORY_2025 = {
    "2025-01-01": "元旦",
    "2025-01-28": "春节",
    "2025-01-29": "春节",
    "2025-01-30": "春节",
    "2025-01-31": "春节",
    "2025-04-04": "清明节",
    "2025-05-01": "劳动节",
    "2025-05-02": "劳动节",
    "2025-05-31": "端午节",
    "2025-10-06": "中秋节",
    "2025-10-01": "国庆节",
    "2025-10-02": "国庆节",
    "2025-10-03": "国庆节",
}
STATUTORY_2026 = {
    "2026-01-01": "元旦",
    "2026-02-16": "春节",
    "2026-02-17": "春节",
    "2026-02-18": "春节",
    "2026-02-19": "春节",
    "2026-04-05": "清明节",
    "2026-05-01": "劳动节",
    "2026-05-02": "劳动节",
    "2026-06-19": "端午节",
    "2026-09-25": "中秋节",
    "2026-10-01": "国庆节",
    "2026-10-02": "国庆节",
    "2026-10-03": "国庆节",
}
STATUTORY_2027 = {
    "2027-01-01": "元旦",
    "2027-02-05": "春节",
    "2027-02-06": "春节",
    "2027-02-07": "春节",
    "2027-02-08": "春节",
    "2027-04-05": "清明节",
    "2027-05-01": "劳动节",
    "2027-05-02": "劳动节",
    "2027-06-09": "端午节",
    "2027-09-15": "中秋节",
    "2027-10-01": "国庆节",
    "2027-10-02": "国庆节",
    "2027-10-03": "国庆节",
}
# 2014–2024 measures: Spring Festival 1st–3rd day only, 1 May only.
STATUTORY_2024 = {
    "2024-01-01": "元旦",
    "2024-02-10": "春节",
    "2024-02-11": "春节",
    "2024-02-12": "春节",
    "2024-04-04": "清明节",
    "2024-05-01": "劳动节",
    "2024-06-10": "端午节",
    "2024-09-17": "中秋节",
    "2024-10-01": "国庆节",
    "2024-10-02": "国庆节",
    "2024-10-03": "国庆节",
}


@pytest.mark.parametrize(
    ("year", "expected"),
    [
        pytest.param(2024, STATUTORY_2024, id="2024-2013-measures"),
        pytest.param(2025, STATUTORY_2025, id="2025-eve-is-lunar-12-29"),
        pytest.param(2026, STATUTORY_2026, id="2026-eve-is-lunar-12-29"),
        pytest.param(2027, STATUTORY_2027, id="2027-lunar-new-year-02-06"),
    ],
)
def test_statutory_holidays_exact(year: int, expected: dict[str, str]) -> None:
    assert statutory_holidays(year) == {D(day): name for day, name in expected.items()}


def test_spring_festival_eve_is_day_before_new_year_not_lunar_12_30() -> None:
    # the 12th lunar month before 2025's and 2026's new year has 29 days: 12/30 does not exist
    with pytest.raises(ValueError, match="day out of range"):
        LunarDate(2024, 12, 30).to_solar_date()
    assert LunarDate(2024, 12, 29).to_solar_date() == D("2025-01-28")
    assert statutory_holidays(2025)[D("2025-01-28")] == "春节"


@pytest.mark.parametrize("year", [pytest.param(year, id=str(year)) for year in range(2004, 2027)])
def test_law_fixed_holidays_are_rest_days_in_published_calendar(year: int) -> None:
    working = sorted(day for day in statutory_holidays(year) if chinese_calendar.is_workday(day))
    assert working == []


@pytest.mark.parametrize("year", [pytest.param(year, id=str(year)) for year in range(2008, 2027)])
def test_qingming_solar_term_matches_published_tomb_sweeping_day(year: int) -> None:
    (qingming,) = [day for day, name in statutory_holidays(year).items() if name == "清明节"]
    assert chinese_calendar.get_holiday_detail(qingming) == (True, chinese_calendar.Holiday.tomb_sweeping_day.value)


@pytest.mark.parametrize("year", [pytest.param(2025, id="2025"), pytest.param(2026, id="2026")])
def test_provisional_rebuild_of_published_year_differs_only_by_notice_days(year: int) -> None:
    """Build a known year as if it were unpublished: every day it gets wrong must be a day the
    annual notice changed (a make-up working day, or a rest day the notice added)."""
    provisional = WorkdayCalendar({year: YearCalendar(year, frozenset(statutory_holidays(year)), frozenset())})
    published = WorkdayCalendar()
    day, differing = date(year, 1, 1), []
    while day.year == year:
        if provisional.is_workday(day) != published.is_workday(day):
            differing.append(day)
        day += timedelta(days=1)
    notice_days = {d for d in chinese_calendar.workdays if d.year == year} | {
        d for d in chinese_calendar.holidays if d.year == year and d not in statutory_holidays(year)
    }
    assert differing
    assert set(differing) <= notice_days


# --- bad inputs --------------------------------------------------------------------------------


def test_statutory_holidays_outside_lunar_range_raises() -> None:
    with pytest.raises(ValueError, match="add an override for 2100"):
        statutory_holidays(2100)


def test_negative_counts_raise(calendar: WorkdayCalendar) -> None:
    with pytest.raises(ValueError, match="n must be >= 0"):
        calendar.add_workdays(D("2026-11-18"), -1)
    with pytest.raises(ValueError, match="n must be >= 0"):
        calendar.add_calendar_days(D("2026-11-18"), -1)


def test_datetime_instead_of_date_raises(calendar: WorkdayCalendar) -> None:
    with pytest.raises(TypeError, match="Asia/Shanghai date"):
        calendar.is_workday(datetime(2026, 11, 18, 9, tzinfo=SHANGHAI))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({"holidays": dates("2026-05-01"), "workdays": frozenset()}, "not in year 2027", id="wrong-year"),
        pytest.param(
            {"holidays": dates("2027-01-09"), "workdays": dates("2027-01-09")},
            "both as holiday and as working day",
            id="holiday-and-workday",
        ),
    ],
)
def test_bad_year_calendar_raises(kwargs: dict[str, frozenset[date]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        YearCalendar(2027, **kwargs)


def test_override_filed_under_wrong_year_raises() -> None:
    with pytest.raises(ValueError, match="filed under 2028 is for year 2027"):
        WorkdayCalendar({2028: OVERRIDE_2027})
