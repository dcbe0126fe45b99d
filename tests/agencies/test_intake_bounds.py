"""Dates in a complaint body are bounded: the public cannot date its complaint at all, staff only within
three years, ``occurred_on`` within twenty years of receipt; list filters within a plausible range."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError
from pydantic_core import PydanticCustomError

from agencies.intake import (
    EARLIEST_DATE,
    LATEST_DATE,
    RECEIVED_AT_MAX_AGE,
    bounded_date,
    parse_complaint,
    years_before,
)
from engine.clock import SHANGHAI
from tests.agencies.factories import NOW, complaint_payload


def errors_of(payload: dict[str, Any], *, public: bool = False) -> list[tuple[tuple[str | int, ...], str, str]]:
    with pytest.raises(ValidationError) as caught:
        parse_complaint(payload, NOW, public=public)
    return [(e["loc"], e["type"], e["msg"]) for e in caught.value.errors()]


@pytest.mark.parametrize("received_at", ["2026-05-06T09:15:00+08:00", "1899-03-01T09:00:00+08:00",
                                         "0001-01-01T00:00:00+08:00"])
def test_the_public_form_cannot_date_its_complaint(received_at: str) -> None:
    [(loc, kind, message)] = errors_of(complaint_payload(received_at=received_at, occurred_on=None), public=True)
    assert (loc, kind) == (("received_at",), "received_at_not_allowed")
    assert message.startswith("公众提交的投诉不能指定接收时间")


def test_a_public_complaint_is_received_now() -> None:
    assert parse_complaint(complaint_payload(received_at=None), NOW, public=True).received_at == NOW
    body = complaint_payload()
    del body["received_at"]
    assert parse_complaint(body, NOW, public=True).received_at == NOW


@pytest.mark.parametrize("received_at", [
    "1899-03-01T09:00:00+08:00",  # its acceptance review would have fallen due in 1900
    "0001-01-01T00:00:00+08:00",  # converting it to UTC overflowed further on: a 500
    "0001-01-01T00:00:00Z",
    0,  # a Unix timestamp: 1970
    (NOW - RECEIVED_AT_MAX_AGE - timedelta(seconds=1)).isoformat(),
])
def test_staff_cannot_date_a_complaint_more_than_three_years_back(received_at: Any) -> None:
    [(loc, kind, message)] = errors_of(complaint_payload(received_at=received_at, occurred_on=None))
    assert (loc, kind) == (("received_at",), "datetime_too_old")
    assert "三年" in message


def test_three_years_back_is_still_accepted() -> None:
    oldest = NOW - RECEIVED_AT_MAX_AGE
    assert oldest.date() == date(2023, 5, 6)  # three calendar years, across the leap day of 2024
    parsed = parse_complaint(complaint_payload(received_at=oldest.isoformat(), occurred_on="2023-05-01"), NOW)
    assert parsed.received_at == oldest


def test_a_far_future_received_at_is_refused_without_overflow() -> None:
    [(loc, kind, _)] = errors_of(complaint_payload(received_at="9999-12-31T23:59:59-12:00"))
    assert (loc, kind) == (("received_at",), "datetime_future")


@pytest.mark.parametrize(("occurred_on", "received_at", "expected"), [
    ("0001-01-01", "2026-05-06T09:15:00+08:00", "date_too_old"),
    ("1900-01-01", None, "date_too_old"),
    ("2006-05-05", "2026-05-06T09:15:00+08:00", "date_too_old"),
    ("2006-05-06", "2026-05-06T09:15:00+08:00", None),  # twenty years to the day
    ("2003-05-06", "2023-05-06T12:00:00+08:00", None),  # counted from receipt, not from today
    ("2003-05-05", "2023-05-06T12:00:00+08:00", "date_too_old"),
])
def test_occurred_on_lies_within_twenty_years_of_receipt(occurred_on: str, received_at: str | None,
                                                         expected: str | None) -> None:
    body = complaint_payload(occurred_on=occurred_on, received_at=received_at)
    if expected is None:
        assert parse_complaint(body, NOW).occurred_on == date.fromisoformat(occurred_on)
    else:
        [(loc, kind, message)] = errors_of(body)
        assert (loc, kind) == (("occurred_on",), expected)
        assert "二十年" in message


def test_occurred_on_is_checked_against_today_when_received_at_is_itself_wrong() -> None:
    errors = errors_of(complaint_payload(received_at="0001-01-01T00:00:00+08:00", occurred_on="0001-01-01"))
    assert [(loc, kind) for loc, kind, _ in errors] == [(("received_at",), "datetime_too_old"),
                                                        (("occurred_on",), "date_too_old")]


def test_years_before_keeps_the_day_or_falls_back_to_28_february() -> None:
    assert years_before(date(2026, 5, 6), 20) == date(2006, 5, 6)
    assert years_before(date(2024, 2, 29), 3) == date(2021, 2, 28)


@pytest.mark.parametrize("value", [date(1, 1, 1), date(1949, 9, 30), date(2101, 1, 1), date(9999, 12, 31)])
def test_filter_dates_outside_the_range_are_refused(value: date) -> None:
    with pytest.raises(PydanticCustomError) as caught:
        bounded_date(value)
    assert caught.value.type == "date_out_of_range"
    assert str(caught.value).startswith("日期须在 1949-10-01 至 2100-12-31 之间")


def test_filter_dates_inside_the_range_pass() -> None:
    for value in (EARLIEST_DATE, LATEST_DATE, datetime(2026, 5, 6, tzinfo=SHANGHAI).date()):
        assert bounded_date(value) == value
