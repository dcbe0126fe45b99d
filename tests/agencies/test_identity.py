"""ID numbers, credit codes and phone numbers: what is accepted, normalised and masked."""

from __future__ import annotations

from datetime import date

import pytest

from agencies.identity import InvalidNumber, is_mobile, normalize_id_number, normalize_phone, normalize_uscc
from agencies.masking import mask_address, mask_id_number, mask_phone
from tests.agencies.factories import BEIJING_ID, SHOP_USCC, TAIHE_ID, X_ID, id_number, wrong_check_digit


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (TAIHE_ID, TAIHE_ID),
        (BEIJING_ID, BEIJING_ID),
        (X_ID, X_ID),
        (X_ID.lower(), X_ID),  # a lower-case x is the same number
        (f" {TAIHE_ID} ", TAIHE_ID),
    ],
)
def test_valid_id_numbers(raw: str, expected: str) -> None:
    assert normalize_id_number(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (wrong_check_digit(TAIHE_ID), "checksum"),
        (X_ID[:-1] + "0", "checksum"),
        (TAIHE_ID[:-1], "length"),
        (TAIHE_ID + "1", "length"),
        ("34122219980315A11X", "format"),
        (id_number("34122219990230211"), "component"),  # 30 February
        (id_number("99999919980315211"), "component"),  # no such region
        (id_number("34122219900315211"), "component"),  # 341222 was not in use before 1996
        ("", "length"),
    ],
)
def test_invalid_id_numbers(raw: str, reason: str) -> None:
    with pytest.raises(InvalidNumber) as caught:
        normalize_id_number(raw)
    assert caught.value.code == reason
    assert "身份证" in caught.value.message and "ID number" in caught.value.message


def test_id_number_born_in_the_future_is_refused_when_today_is_known() -> None:
    future = id_number("34122220270101211")
    assert normalize_id_number(future) == future  # stdnum alone does not know the date
    with pytest.raises(InvalidNumber) as caught:
        normalize_id_number(future, today=date(2026, 5, 6))
    assert caught.value.code == "component"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (SHOP_USCC, SHOP_USCC),
        (SHOP_USCC.lower(), SHOP_USCC),
        ("91110000600037341L", "91110000600037341L"),
        ("9 1 110000 600037341L", "91110000600037341L"),
    ],
)
def test_valid_credit_codes(raw: str, expected: str) -> None:
    assert normalize_uscc(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (wrong_check_digit(SHOP_USCC), "checksum"),
        (SHOP_USCC[:-1], "length"),
        ("A1110000600037341L", "format"),
        ("91110000600037341O", "format"),  # O is not in the alphabet
    ],
)
def test_invalid_credit_codes(raw: str, reason: str) -> None:
    with pytest.raises(InvalidNumber) as caught:
        normalize_uscc(raw)
    assert caught.value.code == reason
    assert "统一社会信用代码" in caught.value.message


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13812345678", "13812345678"),
        ("199 1234 5678", "19912345678"),
        ("+86 138-1234-5678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("0558-8123456", "0558-8123456"),  # four-digit area code, seven digits
        ("05588123456", "0558-8123456"),
        ("(0558)8123456", "0558-8123456"),
        ("010-61234567", "010-61234567"),  # three-digit area code, eight digits
        ("01061234567", "010-61234567"),
        ("021 6123 4567", "021-61234567"),
        ("0558-8123456-801", "0558-8123456-801"),
        ("010-61234567转88", "010-61234567-88"),
        ("0558-8123456 ext. 12", "0558-8123456-12"),
    ],
)
def test_valid_phones(raw: str, expected: str) -> None:
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "12812345678",  # 12x is not a mobile prefix
        "1381234567",  # ten digits
        "138123456789",
        "8123456",  # no area code
        "0558-0123456",  # subscriber numbers do not start with 0
        "0558-812345",  # six digits
        "0558-812345678",  # nine digits
        "030-61234567",  # 03x is not a three-digit area code
        "abc",
        "",
    ],
)
def test_invalid_phones(raw: str) -> None:
    with pytest.raises(InvalidNumber) as caught:
        normalize_phone(raw)
    assert caught.value.code == "phone"


def test_is_mobile() -> None:
    assert is_mobile("13812345678")
    assert not is_mobile("0558-8123456")


@pytest.mark.parametrize(
    ("phone", "masked"),
    [("13812345678", "138****5678"), ("0558-8123456", "0558-****3456"), ("010-61234567-801", "010-****4567")],
)
def test_mask_phone(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked


def test_mask_id_number_keeps_region_and_last_four() -> None:
    assert mask_id_number("341222199803152112") == "341222********2112"
    assert mask_id_number(X_ID) == "341222********003X"


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("安徽省阜阳市太和县城关镇人民路88号", "安徽省阜阳市太和县****"),
        ("阜阳市颍州区清河路1号", "阜阳市颍州区****"),
        ("太和县城关镇人民路88号", "太和县****"),
        ("阜阳市界首市光武镇", "阜阳市界首市****"),  # county-level city
        ("北京市朝阳区建国路88号", "北京市朝阳区****"),
        ("广西壮族自治区南宁市青秀区民族大道1号", "广西壮族自治区南宁市青秀区****"),
        ("阜阳市幸福小区3栋", "阜阳市****"),  # 幸福小区 is no district
        ("人民路88号", "****"),  # nothing recognised: hide it all
        ("太和县", "太和县"),
    ],
)
def test_mask_address_after_the_district(address: str, masked: str) -> None:
    assert mask_address(address) == masked
