"""Identity numbers and phone numbers of complainants and businesses.

Checksums come from python-stdnum (``stdnum.cn.ric`` 居民身份证号码, ``stdnum.cn.uscc``
统一社会信用代码), a maintained library, instead of a hand-rolled copy. Each ``normalize_*``
function returns the canonical form or raises ``InvalidNumber`` with a bilingual message that
the intake model turns into a field error.
"""

from __future__ import annotations

import re
from datetime import date

from stdnum.cn import ric, uscc
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength, ValidationError


class InvalidNumber(ValueError):
    """A number that fails validation; ``code`` is a stable machine-readable reason."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


_MOBILE_RE = re.compile(r"^(?:\+?86)?(1[3-9]\d{9})$")
# Area codes: 010 and 02x have three digits, all others (03xx–09xx) four, so the split is
# unambiguous even without a hyphen. Subscriber numbers have 7–8 digits and start with 2–9.
_LANDLINE_RE = re.compile(
    r"^(?:\+?86-?)?(?P<area>0(?:10|2\d)|0[3-9]\d{2})-?(?P<local>[2-9]\d{6,7})"
    r"(?:(?:-|转|#|ext\.?|x)(?P<ext>\d{1,6}))?$",
    re.IGNORECASE,
)
_SEPARATORS_RE = re.compile(r"[\s()（）]")


def _stdnum_error(exc: ValidationError, what_zh: str, what_en: str) -> InvalidNumber:
    if isinstance(exc, InvalidLength):
        return InvalidNumber("length", f"{what_zh}应为18位 ({what_en} must have 18 characters)")
    if isinstance(exc, InvalidChecksum):
        return InvalidNumber("checksum", f"{what_zh}校验位错误 ({what_en} check digit is wrong)")
    if isinstance(exc, InvalidComponent):
        return InvalidNumber(
            "component", f"{what_zh}中的地区码或出生日期无效 ({what_en} has an invalid region or birth date)"
        )
    if isinstance(exc, InvalidFormat):
        return InvalidNumber("format", f"{what_zh}含有无效字符 ({what_en} has invalid characters)")
    return InvalidNumber("invalid", f"{what_zh}无效 ({what_en} is invalid)")


def normalize_id_number(value: str, *, today: date | None = None) -> str:
    """A checksum-verified 18-digit resident ID number (upper-case ``X``).

    stdnum also checks the birth date and that the region code was in use in the birth year;
    with ``today`` a birth date in the future is refused too.
    """
    try:
        number = ric.validate(value)
    except ValidationError as exc:
        raise _stdnum_error(exc, "身份证号码", "ID number") from None
    if today is not None and ric.get_birth_date(number) > today:
        raise InvalidNumber("component", "身份证号码中的出生日期在未来 (ID number birth date is in the future)")
    return number


def normalize_uscc(value: str, *, what: tuple[str, str] = ("统一社会信用代码", "USCC")) -> str:
    """A checksum-verified unified social credit code (统一社会信用代码), upper-case. ``what`` names the
    number in the error message (Chinese, English), e.g. the platform operator's code."""
    try:
        return uscc.validate(value)
    except ValidationError as exc:
        raise _stdnum_error(exc, *what) from None


def uscc_region_code(code: str) -> str | None:
    """The GB/T 2260 code of the authority that registered the holder of a (valid) USCC: its characters
    3–8 (``91341222MA2N0Y7K3G`` → ``341222``); ``None`` when they are not six digits."""
    region = code[2:8]
    return region if len(region) == 6 and region.isdigit() else None


def normalize_phone(value: str) -> str:
    """A mainland mobile (``13812345678``) or landline (``0558-8123456``, ``010-61234567-801``).

    Spaces and brackets are ignored; a ``+86`` prefix is accepted and dropped.
    """
    compact = _SEPARATORS_RE.sub("", value)
    mobile = _MOBILE_RE.match(compact.replace("-", ""))
    if mobile:
        return mobile.group(1)
    landline = _LANDLINE_RE.match(compact)
    if landline:
        number = f"{landline['area']}-{landline['local']}"
        return f"{number}-{landline['ext']}" if landline["ext"] else number
    raise InvalidNumber(
        "phone",
        "请填写有效的手机号码或带区号的固定电话 (a mainland mobile number or a landline with area code is required)",
    )


def is_mobile(phone: str) -> bool:
    """Whether a normalized phone number is a mobile number (SMS can reach it)."""
    return bool(_MOBILE_RE.match(phone))
