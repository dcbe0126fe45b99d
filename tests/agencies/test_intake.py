"""The complaint body ``ComplaintIn``: every rule fails with the field's ``loc``."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from agencies.intake import (
    ComplaintIn,
    parse_complaint,
    parse_complaint_json,
    real_identity_required,
    require_real_identity,
)
from agencies.vocab import Category, ComplaintKind
from engine.clock import SHANGHAI
from tests.agencies.factories import NOW, SHOP_USCC, TAIHE_ID, X_ID, complaint_payload, wrong_check_digit

MISSING = object()


def mutate(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    payload = copy.deepcopy(complaint_payload())
    target = payload
    for key in path[:-1]:
        target = target[key]
    if value is MISSING:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return payload


def errors_of(payload: dict[str, Any], now: datetime = NOW) -> list[dict[str, Any]]:
    with pytest.raises(ValidationError) as caught:
        parse_complaint(payload, now)
    return caught.value.errors()


def test_valid_complaint_is_normalised() -> None:
    body = complaint_payload(
        complainant={"name": " 张三 ", "phone": "138 1234 5678", "id_number": X_ID.lower(), "email": ""},
        business={"name": "某店", "region_code": "341222", "uscc": SHOP_USCC.lower(), "address": "  "},
        amount=12.5,
    )
    complaint = parse_complaint(body, NOW)
    assert complaint.kind is ComplaintKind.COMPLAINT
    assert complaint.category is Category.QUALITY
    assert complaint.received_at == datetime(2026, 5, 6, 9, 15, tzinfo=SHANGHAI)
    assert complaint.complainant.name == "张三"
    assert complaint.complainant.phone == "13812345678"
    assert complaint.complainant.id_number == X_ID
    assert complaint.complainant.email is None  # blank means not given
    assert complaint.business.uscc == SHOP_USCC
    assert complaint.business.address is None
    assert complaint.amount == Decimal("12.50")
    assert str(complaint.amount) == "12.50"
    assert complaint.occurred_on == date(2026, 5, 1)


def test_minimal_body_defaults_received_at_to_now() -> None:
    body = {
        "kind": "report",
        "complainant": {"name": "李四", "phone": "0558-8123456"},
        "business": {"name": "某网店", "region_code": "341204"},
        "category": "false_advertising",
        "subject": "虚假宣传",
        "description": "宣传与实物不符",
    }
    complaint = parse_complaint(body, NOW)
    assert complaint.received_at == NOW
    assert complaint.received_by is None and complaint.amount is None and complaint.occurred_on is None
    assert complaint.complainant.id_number is None


def test_received_at_within_clock_skew_is_taken_as_now() -> None:
    ahead = (NOW + timedelta(seconds=30)).isoformat()
    assert parse_complaint(complaint_payload(received_at=ahead), NOW).received_at == NOW


def test_received_at_in_another_offset_is_kept_as_the_same_instant() -> None:
    complaint = parse_complaint(complaint_payload(received_at="2026-05-06T01:15:00Z"), NOW)
    assert complaint.received_at == datetime(2026, 5, 6, 1, 15, tzinfo=UTC)


def test_json_body_keeps_exact_decimal_text() -> None:
    import json

    body = json.dumps(complaint_payload(amount=0.1))
    assert parse_complaint_json(body, NOW).amount == Decimal("0.10")


@pytest.mark.parametrize(
    ("path", "value", "loc", "error_type"),
    [
        # missing required fields
        (("kind",), MISSING, ("kind",), "missing"),
        (("complainant",), MISSING, ("complainant",), "missing"),
        (("complainant", "name"), MISSING, ("complainant", "name"), "missing"),
        (("complainant", "phone"), MISSING, ("complainant", "phone"), "missing"),
        (("business", "name"), MISSING, ("business", "name"), "missing"),
        (("business", "region_code"), MISSING, ("business", "region_code"), "missing"),
        (("category",), MISSING, ("category",), "missing"),
        (("subject",), MISSING, ("subject",), "missing"),
        (("description",), MISSING, ("description",), "missing"),
        # vocabularies
        (("kind",), "petition", ("kind",), "enum"),
        (("category",), "售后服务", ("category",), "enum"),
        # extra fields, at every level
        (("priority",), "high", ("priority",), "extra_forbidden"),
        (("complainant", "address"), "x", ("complainant", "address"), "extra_forbidden"),
        (("business", "phone"), "x", ("business", "phone"), "extra_forbidden"),
        # identity numbers and phones
        (("complainant", "id_number"), wrong_check_digit(TAIHE_ID), ("complainant", "id_number"), "id_number_invalid"),
        (("complainant", "id_number"), TAIHE_ID[:-1], ("complainant", "id_number"), "id_number_invalid"),
        (("business", "uscc"), wrong_check_digit(SHOP_USCC), ("business", "uscc"), "uscc_invalid"),
        (("complainant", "phone"), "12345", ("complainant", "phone"), "phone_invalid"),
        (("complainant", "phone"), "12812345678", ("complainant", "phone"), "phone_invalid"),
        (("complainant", "email"), "not-an-email", ("complainant", "email"), "email_invalid"),
        # regions
        (("business", "region_code"), "341299", ("business", "region_code"), "region_unknown"),
        (("business", "region_code"), "341223", ("business", "region_code"), "region_unknown"),
        (("business", "region_code"), "34122", ("business", "region_code"), "string_pattern_mismatch"),
        # times
        (("received_at",), "2026-05-06T11:00:00+08:00", ("received_at",), "datetime_future"),
        (("received_at",), "2026-05-06T09:15:00", ("received_at",), "timezone_aware"),
        (("received_at",), "yesterday", ("received_at",), "datetime_from_date_parsing"),
        (("occurred_on",), "2026-05-07", ("occurred_on",), "date_future"),
        # amounts
        (("amount",), "-0.01", ("amount",), "greater_than_equal"),
        (("amount",), "12.345", ("amount",), "decimal_max_places"),
        (("amount",), 1.005, ("amount",), "decimal_max_places"),
        (("amount",), "NaN", ("amount",), "finite_number"),
        (("amount",), "1000000000000.00", ("amount",), "decimal_whole_digits"),
        (("amount",), True, ("amount",), "decimal_type"),
        # lengths and blanks
        (("subject",), "   ", ("subject",), "string_too_short"),
        (("subject",), "x" * 201, ("subject",), "string_too_long"),
        (("description",), "x" * 10_001, ("description",), "string_too_long"),
        (("complainant", "name"), "x" * 101, ("complainant", "name"), "string_too_long"),
        (("business", "name"), "", ("business", "name"), "string_too_short"),
        (("business", "address"), "x" * 301, ("business", "address"), "string_too_long"),
        (("received_by",), "TH AMR", ("received_by",), "string_pattern_mismatch"),
    ],
)
def test_invalid_field_is_named(path: tuple[str, ...], value: Any, loc: tuple[str, ...], error_type: str) -> None:
    errors = errors_of(mutate(path, value))
    assert [(e["loc"], e["type"]) for e in errors] == [(loc, error_type)]
    assert errors[0]["msg"]


def test_occurred_today_is_fine() -> None:
    today = complaint_payload(received_at=NOW.isoformat(), occurred_on="2026-05-06")
    assert parse_complaint(today, NOW).occurred_on == date(2026, 5, 6)


def test_occurred_on_after_receipt_is_refused() -> None:
    errors = errors_of(complaint_payload(received_at="2026-05-01T10:00:00+08:00", occurred_on="2026-05-02"))
    assert [(e["loc"], e["type"]) for e in errors] == [(("occurred_on",), "date_after_receipt")]


def test_id_number_born_after_now_is_refused() -> None:
    from tests.agencies.factories import id_number

    future_child = id_number("34122220260601211")
    errors = errors_of(mutate(("complainant", "id_number"), future_child))
    assert [e["loc"] for e in errors] == [("complainant", "id_number")]


def test_custom_messages_are_bilingual() -> None:
    errors = errors_of(mutate(("complainant", "id_number"), wrong_check_digit(TAIHE_ID)))
    assert errors[0]["msg"] == "身份证号码校验位错误 (ID number check digit is wrong)"


def test_all_errors_are_reported_at_once() -> None:
    payload = complaint_payload(amount="-1", extra=1)
    payload["business"] = {"name": "", "region_code": "000000"}
    locs = {e["loc"] for e in errors_of(payload)}
    assert locs == {("amount",), ("extra",), ("business", "name"), ("business", "region_code")}


def test_personal_data_is_not_in_the_error_text() -> None:
    bad = wrong_check_digit(TAIHE_ID)
    with pytest.raises(ValidationError) as caught:
        parse_complaint(mutate(("complainant", "id_number"), bad), NOW)
    assert bad not in str(caught.value)


def test_validation_needs_a_clock_reading() -> None:
    with pytest.raises(TypeError, match="parse_complaint"):
        ComplaintIn.model_validate(complaint_payload())
    with pytest.raises(ValueError, match="naive"):
        parse_complaint(complaint_payload(), datetime(2026, 5, 6, 10, 30))


@pytest.mark.parametrize(
    ("kind", "agency_kind", "required"),
    [
        ("complaint", "market_regulator", True),
        ("complaint", "consumer_association", False),
        ("complaint", "mediation_committee", False),
        ("report", "market_regulator", False),  # reports may be anonymous
        ("consultation", "market_regulator", False),
    ],
)
def test_real_identity_rule(kind: str, agency_kind: str, required: bool) -> None:
    assert real_identity_required(kind, agency_kind) is required
    anonymous = parse_complaint(mutate(("complainant", "id_number"), MISSING) | {"kind": kind}, NOW)
    if required:
        with pytest.raises(ValidationError) as caught:
            require_real_identity(anonymous, agency_kind)
        [error] = caught.value.errors()
        assert error["loc"] == ("complainant", "id_number")
        assert error["type"] == "real_identity_required"
    else:
        require_real_identity(anonymous, agency_kind)
    require_real_identity(parse_complaint(complaint_payload(kind=kind), NOW), agency_kind)
