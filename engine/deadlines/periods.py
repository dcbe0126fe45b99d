"""Periods and how a deadline is counted from them (民法典 arts. 201–203).

- The period runs in Asia/Shanghai dates; the start day is not counted (art. 201).
- A period ends at 24:00 of its last day (art. 203, second paragraph); it is stored as the aware
  datetime ``<last day>T23:59:59+08:00`` and shown as the date.
- Working-day periods ('wd') count working days only. Calendar-day periods ('cd') count every day,
  but if the last day is a weekend or holiday the period ends on the first working day after it
  (art. 203, first paragraph).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal, get_args

from engine.clock import SHANGHAI, ensure_aware
from engine.deadlines.calendar import WorkdayCalendar

__all__ = [
    "Deadline",
    "Period",
    "PeriodUnit",
    "compute_due",
    "shift_for_suspension",
    "to_shanghai_date",
]

PeriodUnit = Literal["wd", "cd"]
_UNITS: tuple[str, ...] = get_args(PeriodUnit)
_PERIOD_TEXT = re.compile(r"(\d+)(wd|cd)")
# 24:00 of the last day, stored as its last second.
_END_OF_DAY = time(23, 59, 59)


@dataclass(frozen=True)
class Period:
    """A statutory period: ``amount`` working days ('wd') or calendar days ('cd')."""

    amount: int
    unit: PeriodUnit

    def __post_init__(self) -> None:
        if isinstance(self.amount, bool) or not isinstance(self.amount, int) or self.amount < 1:
            raise ValueError(f"期限天数须为正整数 / period amount must be a positive whole number, got {self.amount!r}")
        if self.unit not in _UNITS:
            raise ValueError("期限单位须为 wd（工作日）或 cd（自然日）/ "
                             f"period unit must be 'wd' (working days) or 'cd' (calendar days), got {self.unit!r}")

    @classmethod
    def parse(cls, text: str) -> Period:
        """``"7wd"`` → 7 working days, ``"60cd"`` → 60 calendar days (case and outer spaces ignored)."""
        match = _PERIOD_TEXT.fullmatch(text.strip().lower()) if isinstance(text, str) else None
        if match is None or int(match.group(1)) < 1:
            raise ValueError(
                "期限格式不正确，须为正整数加 wd（工作日）或 cd（自然日），如 7wd、60cd / "
                f"bad period {text!r}: expected a positive whole number followed by 'wd' (working days) "
                "or 'cd' (calendar days), e.g. '7wd' or '60cd'"
            )
        unit: PeriodUnit = "wd" if match.group(2) == "wd" else "cd"
        return cls(int(match.group(1)), unit)

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}"


def to_shanghai_date(instant: datetime) -> date:
    """The Asia/Shanghai calendar date of an aware instant; naive datetimes raise ``ValueError``."""
    if not isinstance(instant, datetime):
        raise TypeError(f"expected an aware datetime, got {instant!r}")
    return ensure_aware(instant).astimezone(SHANGHAI).date()


@dataclass(frozen=True)
class Deadline:
    """A computed deadline.

    ``nominal_last_day``: for calendar-day periods, the day the period ends on before art. 203
    moves it past a rest day (equal to ``last_day`` otherwise). A suspension shifts this nominal day,
    not the moved one — see ``shift_for_suspension``. ``None`` means "same as ``last_day``".
    """

    due_at: datetime
    provisional: bool
    rule: str | None
    last_day: date
    nominal_last_day: date | None = None

    def __post_init__(self) -> None:
        if to_shanghai_date(self.due_at) != self.last_day:
            raise ValueError(f"due_at {self.due_at.isoformat()} is not on last_day {self.last_day.isoformat()}")

    @classmethod
    def ending_on(
        cls,
        last_day: date,
        *,
        provisional: bool,
        rule: str | None = None,
        nominal_last_day: date | None = None,
    ) -> Deadline:
        """The deadline ending at 24:00 (Asia/Shanghai) of ``last_day``."""
        due_at = datetime.combine(last_day, _END_OF_DAY, tzinfo=SHANGHAI)
        return cls(due_at, provisional, rule, last_day, nominal_last_day)


def _add(period: Period, after: date, calendar: WorkdayCalendar) -> tuple[date, date, bool]:
    """(last day, nominal last day, provisional) of ``period`` counted from the day ``after``."""
    if period.unit == "wd":
        last, provisional = calendar.add_workdays(after, period.amount)
        return last, last, provisional
    last, provisional = calendar.add_calendar_days(after, period.amount)
    return last, after + timedelta(days=period.amount), provisional


def compute_due(
    period: Period,
    start: datetime,
    calendar: WorkdayCalendar,
    *,
    extended_by: Period | None = None,
    rule: str | None = None,
) -> Deadline:
    """The deadline of ``period`` counted from the event at ``start``.

    The start day (its Asia/Shanghai date) is not counted (民法典 art. 201). An extension runs
    from the original period's end: ``extended_by`` is counted from the original last day — for a
    calendar-day period the day after art. 203 moved it, because that is the day the original
    period legally ended on.
    """
    start_day = to_shanghai_date(start)
    last, nominal, provisional = _add(period, start_day, calendar)
    if extended_by is not None:
        last, nominal, extension_provisional = _add(extended_by, last, calendar)
        provisional = provisional or extension_provisional
    return Deadline.ending_on(last, provisional=provisional, rule=rule, nominal_last_day=nominal)


def shift_for_suspension(
    deadline: Deadline,
    suspended_from: datetime,
    resumed_at: datetime,
    period_unit: PeriodUnit,
    calendar: WorkdayCalendar,
) -> Deadline:
    """Move ``deadline`` by the time its task was suspended (testing, appraisal, 中止, 听证, 公告 —
    Order 20 art. 20, 行政处罚程序规定 art. 64: that time "is not counted").

    Periods are counted in whole days, so the suspension is too, on Asia/Shanghai dates ``S``
    (suspended) and ``R`` (resumed). The days excluded are those in ``(S, R]``:

    - the day of suspension ``S`` counts as a day of the period: the period was already running on
      it, and it was (partly) available for the work;
    - the day of resumption ``R`` does not count: resuming is a fresh start of the remaining
      period, and a start day is not counted (民法典 art. 201).

    So a partially-used day is counted exactly once (never lost twice, never granted twice), a
    suspension within one day moves nothing, and one lasting from Thursday 10:00 to Friday 10:00
    moves a working-day deadline by one working day.

    - 'wd': the deadline moves by the number of working days in ``(S, R]``, added after its last
      day (a suspension over a weekend or holiday costs no working days).
    - 'cd': the deadline moves by ``R - S`` calendar days, added to the nominal last day (before
      art. 203's roll-forward), and the result is rolled forward again if it lands on a rest day;
      shifting the already-rolled day would grant the days of the holiday twice.

    The result is provisional when the original was, or when the suspended span or the shifted
    end touches a year not yet published. (Only recomputing from scratch can drop the flag.)
    """
    if period_unit not in _UNITS:
        raise ValueError(f"period unit must be 'wd' or 'cd', got {period_unit!r}")
    suspended_day = to_shanghai_date(suspended_from)
    resumed_day = to_shanghai_date(resumed_at)
    if resumed_at < suspended_from:
        raise ValueError(f"resumed_at {resumed_at.isoformat()} is before suspended_from {suspended_from.isoformat()}")
    if period_unit == "wd":
        shift = calendar.working_days_between(suspended_day, resumed_day)
        span_provisional = calendar.spans_unknown_year(suspended_day, resumed_day)
        if shift == 0:
            return _with_provisional(deadline, span_provisional)
        last, end_provisional = calendar.add_workdays(deadline.last_day, shift)
        nominal = last
    else:
        shift = (resumed_day - suspended_day).days
        span_provisional = False  # counting calendar days consults no calendar
        if shift == 0:
            return deadline
        nominal = (deadline.nominal_last_day or deadline.last_day) + timedelta(days=shift)
        last, end_provisional = calendar.add_calendar_days(nominal, 0)
    return Deadline.ending_on(
        last,
        provisional=deadline.provisional or span_provisional or end_provisional,
        rule=deadline.rule,
        nominal_last_day=nominal,
    )


def _with_provisional(deadline: Deadline, provisional: bool) -> Deadline:
    if deadline.provisional or not provisional:
        return deadline
    return Deadline(deadline.due_at, True, deadline.rule, deadline.last_day, deadline.nominal_last_day)
