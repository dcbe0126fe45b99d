"""Period parsing, deadline computation (民法典 arts. 201–203) and suspension shifting."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from engine.clock import SHANGHAI
from engine.deadlines.calendar import WorkdayCalendar
from engine.deadlines.periods import Deadline, Period, compute_due, shift_for_suspension
from tests.deadlines.calendars import OVERRIDE_2027

D = date.fromisoformat


def sh(text: str) -> datetime:
    """An Asia/Shanghai instant from 'YYYY-MM-DD HH:MM'."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@pytest.fixture(scope="module")
def calendar() -> WorkdayCalendar:
    return WorkdayCalendar()


# --- Period ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "amount", "unit", "canonical"),
    [
        pytest.param("7wd", 7, "wd", "7wd", id="working-days"),
        pytest.param("60cd", 60, "cd", "60cd", id="calendar-days"),
        pytest.param(" 15WD ", 15, "wd", "15wd", id="case-and-spaces"),
        pytest.param("007wd", 7, "wd", "7wd", id="leading-zeros"),
    ],
)
def test_period_parse_and_str(text: str, amount: int, unit: str, canonical: str) -> None:
    period = Period.parse(text)
    assert (period.amount, period.unit) == (amount, unit)
    assert str(period) == canonical
    assert Period.parse(str(period)) == period


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("7", id="no-unit"),
        pytest.param("wd", id="no-amount"),
        pytest.param("7 wd", id="inner-space"),
        pytest.param("7days", id="unknown-unit"),
        pytest.param("-3wd", id="negative"),
        pytest.param("0wd", id="zero"),
        pytest.param("7.5cd", id="fraction"),
        pytest.param("7wdx", id="trailing-garbage"),
    ],
)
def test_period_parse_rejects_bad_text(text: str) -> None:
    with pytest.raises(ValueError, match=r"bad period .*expected a positive whole number followed by 'wd'"):
        Period.parse(text)


@pytest.mark.parametrize(
    ("amount", "unit", "message"),
    [
        pytest.param(0, "wd", "positive whole number", id="zero-amount"),
        pytest.param(True, "wd", "positive whole number", id="bool-amount"),
        pytest.param(7, "days", "'wd' .* or 'cd'", id="bad-unit"),
    ],
)
def test_period_constructor_validates(amount: int, unit: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Period(amount, unit)  # type: ignore[arg-type]


# --- compute_due -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("period", "start", "extended_by", "last_day", "provisional"),
    [
        pytest.param("7wd", sh("2026-11-18 10:00"), None, "2026-11-27", False, id="doc-example"),
        pytest.param(
            "7wd",
            datetime(2026, 11, 17, 17, 0, tzinfo=UTC),
            None,
            "2026-11-27",
            False,
            id="utc-evening-is-next-shanghai-day",
        ),
        pytest.param(
            "7wd",
            datetime(2026, 11, 18, 16, 0, tzinfo=UTC),
            None,
            "2026-11-30",
            False,
            id="utc-16h-is-shanghai-midnight-thursday",
        ),
        pytest.param("30cd", sh("2026-09-01 09:00"), None, "2026-10-08", False, id="cd-ends-on-national-day"),
        pytest.param("15wd", sh("2026-11-02 09:00"), "15wd", "2026-12-14", False, id="wd-extension-from-original-end"),
        pytest.param("90cd", sh("2026-03-01 09:00"), "30cd", "2026-07-01", False, id="cd-extension"),
        pytest.param(
            "90cd",
            sh("2026-07-03 09:00"),
            "30cd",
            "2026-11-09",
            False,
            id="cd-extension-counts-from-moved-end-10-08",
        ),
        pytest.param("15wd", sh("2026-12-01 09:00"), None, "2026-12-22", False, id="known-without-extension"),
        pytest.param("15wd", sh("2026-12-01 09:00"), "15wd", "2027-01-13", True, id="extension-into-unknown-2027"),
        pytest.param("7wd", sh("2026-12-28 09:00"), None, "2027-01-07", True, id="late-december-provisional"),
    ],
)
def test_compute_due(
    calendar: WorkdayCalendar,
    period: str,
    start: datetime,
    extended_by: str | None,
    last_day: str,
    provisional: bool,
) -> None:
    deadline = compute_due(
        Period.parse(period), start, calendar, extended_by=Period.parse(extended_by) if extended_by else None
    )
    assert deadline.last_day == D(last_day)
    assert deadline.due_at.isoformat() == f"{last_day}T23:59:59+08:00"
    assert deadline.provisional is provisional
    assert deadline.rule is None


def test_compute_due_records_nominal_day_and_rule(calendar: WorkdayCalendar) -> None:
    deadline = compute_due(Period.parse("30cd"), sh("2026-09-01 09:00"), calendar, rule="judicial_confirmation")
    assert deadline == Deadline(
        due_at=datetime(2026, 10, 8, 23, 59, 59, tzinfo=SHANGHAI),
        provisional=False,
        rule="judicial_confirmation",
        last_day=D("2026-10-08"),
        nominal_last_day=D("2026-10-01"),
    )


def test_compute_due_with_2027_override_is_not_provisional() -> None:
    calendar = WorkdayCalendar({2027: OVERRIDE_2027})
    deadline = compute_due(Period.parse("7wd"), sh("2026-12-28 09:00"), calendar)
    assert (deadline.last_day, deadline.provisional) == (D("2027-01-08"), False)


def test_compute_due_rejects_naive_start(calendar: WorkdayCalendar) -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        compute_due(Period.parse("7wd"), datetime(2026, 11, 18, 10, 0), calendar)


def test_deadline_rejects_due_at_off_its_last_day() -> None:
    with pytest.raises(ValueError, match="is not on last_day"):
        Deadline(datetime(2026, 11, 28, 0, 0, tzinfo=SHANGHAI), False, None, D("2026-11-27"))


# --- shift_for_suspension ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("period", "start", "suspended_from", "resumed_at", "before", "after"),
    [
        # 'wd': the working days in (suspension day, resumption day]
        pytest.param(
            "7wd",
            "2026-11-18 10:00",
            "2026-11-20 10:00",
            "2026-11-24 15:00",
            "2026-11-27",
            "2026-12-01",
            id="wd-fri-to-tue-moves-2",
        ),
        pytest.param(
            "7wd",
            "2026-11-18 10:00",
            "2026-11-20 10:00",
            "2026-11-20 16:00",
            "2026-11-27",
            "2026-11-27",
            id="wd-within-one-day-moves-nothing",
        ),
        pytest.param(
            "7wd",
            "2026-11-18 10:00",
            "2026-11-19 10:00",
            "2026-11-20 10:00",
            "2026-11-27",
            "2026-11-30",
            id="wd-24-hours-moves-1",
        ),
        pytest.param(
            "7wd",
            "2026-11-18 10:00",
            "2026-11-20 17:00",
            "2026-11-23 09:00",
            "2026-11-27",
            "2026-11-30",
            id="wd-friday-evening-to-monday-moves-1",
        ),
        pytest.param(
            "7wd",
            "2026-11-18 10:00",
            "2026-11-21 10:00",
            "2026-11-22 10:00",
            "2026-11-27",
            "2026-11-27",
            id="wd-weekend-only-moves-nothing",
        ),
        pytest.param(
            "7wd",
            "2026-09-28 10:00",
            "2026-09-30 09:00",
            "2026-10-09 09:00",
            "2026-10-13",
            "2026-10-15",
            id="wd-over-national-day-moves-2",
        ),
        # 'cd': R - S calendar days, added to the nominal last day, then art. 203 again
        pytest.param(
            "60cd",
            "2026-04-15 09:00",
            "2026-05-01 09:00",
            "2026-05-11 09:00",
            "2026-06-15",
            "2026-06-24",
            id="cd-10-days-from-nominal-sunday-06-14",
        ),
        pytest.param(
            "30cd",
            "2026-09-01 09:00",
            "2026-09-10 09:00",
            "2026-09-12 09:00",
            "2026-10-08",
            "2026-10-08",
            id="cd-2-days-nominal-10-03-still-in-holiday",
        ),
        pytest.param(
            "30cd",
            "2026-09-01 09:00",
            "2026-09-10 09:00",
            "2026-09-20 09:00",
            "2026-10-08",
            "2026-10-12",
            id="cd-10-days-nominal-sunday-10-11",
        ),
        pytest.param(
            "30cd",
            "2026-09-01 09:00",
            "2026-09-10 09:00",
            "2026-09-10 18:00",
            "2026-10-08",
            "2026-10-08",
            id="cd-within-one-day-moves-nothing",
        ),
    ],
)
def test_shift_for_suspension(
    calendar: WorkdayCalendar,
    period: str,
    start: str,
    suspended_from: str,
    resumed_at: str,
    before: str,
    after: str,
) -> None:
    parsed = Period.parse(period)
    deadline = compute_due(parsed, sh(start), calendar, rule="some_rule")
    assert deadline.last_day == D(before)
    shifted = shift_for_suspension(deadline, sh(suspended_from), sh(resumed_at), parsed.unit, calendar)
    assert shifted.last_day == D(after)
    assert shifted.due_at.isoformat() == f"{after}T23:59:59+08:00"
    assert shifted.rule == "some_rule"
    assert shifted.provisional is False


def test_successive_suspensions_add_up(calendar: WorkdayCalendar) -> None:
    deadline = compute_due(Period.parse("30cd"), sh("2026-09-01 09:00"), calendar)
    once = shift_for_suspension(deadline, sh("2026-09-10 09:00"), sh("2026-09-12 09:00"), "cd", calendar)
    twice = shift_for_suspension(once, sh("2026-09-14 09:00"), sh("2026-09-22 09:00"), "cd", calendar)
    # nominal 10-01 + 2 + 8 = 10-11 (Sunday) → Monday 10-12, as one 10-day suspension would give
    assert (once.last_day, twice.last_day, twice.nominal_last_day) == (
        D("2026-10-08"),
        D("2026-10-12"),
        D("2026-10-11"),
    )


@pytest.mark.parametrize(
    ("start", "suspended_from", "resumed_at", "after", "provisional"),
    [
        pytest.param(
            "2026-12-10 09:00",
            "2026-12-14 09:00",
            "2026-12-18 09:00",
            "2026-12-25",
            False,
            id="span-and-end-in-2026",
        ),
        pytest.param(
            "2026-12-10 09:00",
            "2026-12-14 09:00",
            "2026-12-28 09:00",
            "2027-01-05",
            True,
            id="shifted-end-in-unknown-2027",
        ),
        pytest.param(
            "2026-12-10 09:00",
            "2026-12-31 10:00",
            "2027-01-01 10:00",
            "2026-12-21",
            True,
            id="zero-shift-counted-over-provisional-holiday",
        ),
        pytest.param(
            "2026-12-28 09:00",
            "2026-12-29 09:00",
            "2026-12-29 17:00",
            "2027-01-07",
            True,
            id="provisional-deadline-stays-provisional",
        ),
    ],
)
def test_shift_for_suspension_provisional(
    calendar: WorkdayCalendar, start: str, suspended_from: str, resumed_at: str, after: str, provisional: bool
) -> None:
    deadline = compute_due(Period.parse("7wd"), sh(start), calendar)
    shifted = shift_for_suspension(deadline, sh(suspended_from), sh(resumed_at), "wd", calendar)
    assert (shifted.last_day, shifted.provisional) == (D(after), provisional)


@pytest.mark.parametrize(
    ("suspended_from", "resumed_at", "unit", "message"),
    [
        pytest.param(sh("2026-11-24 09:00"), sh("2026-11-20 09:00"), "wd", "is before", id="resumed-before"),
        pytest.param(datetime(2026, 11, 20, 9), sh("2026-11-24 09:00"), "wd", "naive datetime", id="naive"),
        pytest.param(sh("2026-11-20 09:00"), sh("2026-11-24 09:00"), "days", "'wd' or 'cd'", id="bad-unit"),
    ],
)
def test_shift_for_suspension_rejects_bad_input(
    calendar: WorkdayCalendar, suspended_from: datetime, resumed_at: datetime, unit: str, message: str
) -> None:
    deadline = compute_due(Period.parse("7wd"), sh("2026-11-18 10:00"), calendar)
    with pytest.raises(ValueError, match=message):
        shift_for_suspension(deadline, suspended_from, resumed_at, unit, calendar)  # type: ignore[arg-type]
