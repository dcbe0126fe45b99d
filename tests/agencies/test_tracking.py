"""Tracking numbers and codes, case numbers and password hashing (no database)."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime

import pytest

from agencies.numbering import format_case_no, parse_case_no
from agencies.passwords import hash_password, needs_rehash, verify_password
from agencies.tracking import (
    CODE_ALPHABET,
    derive_tracking_key,
    hash_tracking_code,
    new_tracking_code,
    new_tracking_no,
    normalize_tracking_code,
    normalize_tracking_no,
    verify_tracking_code,
)

KEY = derive_tracking_key("test-secret")


def test_tracking_no_carries_the_shanghai_date_and_a_check_digit() -> None:
    number = new_tracking_no(datetime(2026, 5, 5, 17, 0, tzinfo=UTC))  # 01:00 on 6 May in Shanghai
    assert re.fullmatch(r"TS20260506\d{8}", number)
    assert normalize_tracking_no(number) == number
    assert normalize_tracking_no(number.lower().replace("ts", "ts ")) == number


def test_tracking_no_typos_are_caught_by_the_check_digit() -> None:
    number = new_tracking_no(datetime(2026, 5, 6, tzinfo=UTC))
    last = int(number[-1])
    assert normalize_tracking_no(number[:-1] + str((last + 1) % 10)) is None
    swapped = number[:-3] + number[-2] + number[-3] + number[-1]
    # Luhn catches every swap of two adjacent digits except 09 <-> 90 (the numbers are random)
    if swapped != number and {number[-3], number[-2]} != {"0", "9"}:
        assert normalize_tracking_no(swapped) is None
    assert normalize_tracking_no("TS123") is None


def test_tracking_numbers_are_not_sequential() -> None:
    day = datetime(2026, 5, 6, tzinfo=UTC)
    numbers = {new_tracking_no(day) for _ in range(200)}
    assert len(numbers) == 200
    serials = sorted(int(n[10:17]) for n in numbers)
    assert max(b - a for a, b in itertools.pairwise(serials)) > 1


def test_tracking_code_alphabet_has_no_look_alikes() -> None:
    assert not set("01OILU") & set(CODE_ALPHABET)
    codes = {new_tracking_code() for _ in range(200)}
    assert len(codes) == 200
    assert all(len(code) == 8 and set(code) <= set(CODE_ALPHABET) for code in codes)


def test_tracking_code_hash_verifies_in_any_typing() -> None:
    code = "ABCD2345"
    stored = hash_tracking_code("TS2026050600000001", code, KEY)
    assert stored.startswith("v1$") and code not in stored
    assert verify_tracking_code("TS2026050600000001", "abcd-2345", stored, KEY)
    assert verify_tracking_code("TS2026050600000001", " ABCD 2345 ", stored, KEY)
    assert normalize_tracking_code("ab cd-2345") == code


def test_tracking_code_hash_is_bound_to_key_and_number() -> None:
    stored = hash_tracking_code("TS2026050600000001", "ABCD2345", KEY)
    assert not verify_tracking_code("TS2026050600000001", "ABCD2346", stored, KEY)
    assert not verify_tracking_code("TS2026050600000019", "ABCD2345", stored, KEY)
    assert not verify_tracking_code("TS2026050600000001", "ABCD2345", stored, derive_tracking_key("other"))


@pytest.mark.parametrize(
    ("short_name", "year", "seq", "case_no"),
    [
        ("太市监", 2026, 17, "太市监诉转案〔2026〕17号"),
        ("阜市监", 2027, 1, "阜市监诉转案〔2027〕1号"),
        ("临市监", 2026, 1234, "临市监诉转案〔2026〕1234号"),
    ],
)
def test_case_numbers(short_name: str, year: int, seq: int, case_no: str) -> None:
    assert format_case_no(short_name, year, seq) == case_no
    assert parse_case_no(case_no) == (short_name, year, seq)


@pytest.mark.parametrize(("short_name", "year", "seq"), [("", 2026, 1), ("太市监", 26, 1), ("太市监", 2026, 0)])
def test_bad_case_number_parts(short_name: str, year: int, seq: int) -> None:
    with pytest.raises(ValueError):
        format_case_no(short_name, year, seq)


def test_parse_case_no_refuses_other_shapes() -> None:
    assert parse_case_no("太市监诉转案[2026]17号") is None
    assert parse_case_no("太市监诉转案〔2026〕017号") is None


def test_passwords_are_argon2id(real_argon2: None) -> None:
    stored = hash_password("correct horse")
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert verify_password("correct horse", stored)
    assert not verify_password("wrong horse", stored)
    assert not verify_password("correct horse", "not-a-hash")
    assert not needs_rehash(stored)
    assert needs_rehash("not-a-hash")
    with pytest.raises(ValueError):
        hash_password("")
