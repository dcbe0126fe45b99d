"""The complaint body of ``POST /api/v1/complaints`` as a validated model: what intake accepts, nothing
more.

"Now" is never read from the system clock here: ``parse_complaint(payload, now)`` passes the
caller's clock reading as pydantic validation context, so tests and imports replay any instant.
Every error carries the field's ``loc`` (e.g. ``("complainant", "id_number")``) and a bilingual
message; input values are hidden from the error's string form so personal data cannot reach a
log through it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from agencies.identity import InvalidNumber, normalize_id_number, normalize_phone, normalize_uscc
from agencies.regions import region_exists
from agencies.vocab import AgencyKind, Category, ComplaintKind
from engine.clock import SHANGHAI, ensure_aware

# A partner system's clock may run slightly ahead of ours; within this margin a "future"
# received_at is taken as now instead of being refused.
CLOCK_SKEW = timedelta(minutes=2)

RECEIVED_AT_MAX_AGE = timedelta(days=3 * 365 + 1)
"""How far back staff (or an import) may date a complaint's receipt: three years, a leap day included.

A complaint received longer ago and registered only now would start its workflow with every
statutory deadline long past (the acceptance review is due seven working days after receipt), and
Order 20 art. 15 refuses a complaint brought more than three years after the consumer knew of the
harm anyway. Earlier dates are typing mistakes (1899, 0001), never history.
"""

OCCURRED_ON_MAX_YEARS = 20
"""How many years before its receipt a complaint's ``occurred_on`` may lie.

The Civil Code (art. 188) protects no right more than twenty years after the harm, whenever the
consumer learned of it; an older date is a mistake. Nothing else bounds it from below, since a
latent defect may be noticed years after the purchase.
"""

EARLIEST_DATE = date(1949, 10, 1)
"""The earliest date a list filter may name: no agency of this kind, hence no complaint, is older."""

LATEST_DATE = date(2100, 12, 31)
"""The latest date a list filter may name. Beyond the plausible range a date is a mistake, and at
its ends (year 0001 or 9999) converting it to an instant in Asia/Shanghai overflows."""

_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
_AGENCY_CODE_PATTERN = r"^[a-z0-9][a-z0-9-]{1,49}$"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True, hide_input_in_errors=True)


def _now(info: ValidationInfo) -> datetime:
    context = info.context if isinstance(info.context, Mapping) else {}
    now = context.get("now")
    if not isinstance(now, datetime):
        raise TypeError("ComplaintIn needs context={'now': aware datetime}; use agencies.intake.parse_complaint()")
    return ensure_aware(now)


def _public(info: ValidationInfo) -> bool:
    return isinstance(info.context, Mapping) and info.context.get("public") is True


def years_before(day: date, years: int) -> date:
    """The same calendar day ``years`` earlier (28 February for a 29 February without a match)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def bounded_date(value: date) -> date:
    """A date a person may mean in this product (``EARLIEST_DATE``..``LATEST_DATE``); used for the
    list filters, where a year 0001 or 9999 would otherwise reach the database and overflow there."""
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise PydanticCustomError(
            "date_out_of_range",
            "日期须在 {earliest} 至 {latest} 之间 (date must lie between {earliest} and {latest})",
            {"earliest": EARLIEST_DATE.isoformat(), "latest": LATEST_DATE.isoformat()},
        )
    return value


def _blank_to_none(value: Any) -> Any:
    """Optional text left empty in a form means "not given"."""
    return None if isinstance(value, str) and not value.strip() else value


def _field_error(exc: InvalidNumber, type_: str) -> PydanticCustomError:
    return PydanticCustomError(type_, exc.message, {"reason": exc.code})


class ComplainantIn(_Model):
    """The consumer (投诉人/举报人)."""

    name: str = Field(min_length=1, max_length=100)
    phone: str = Field(min_length=1, max_length=40, description="mainland mobile or landline with area code")
    id_number: str | None = Field(default=None, max_length=20, description="居民身份证号码")
    email: str | None = Field(default=None, max_length=254)

    @field_validator("id_number", "email", mode="before")
    @classmethod
    def _optional(cls, value: Any) -> Any:
        return _blank_to_none(value)

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        try:
            return normalize_phone(value)
        except InvalidNumber as exc:
            raise _field_error(exc, "phone_invalid") from None

    @field_validator("id_number")
    @classmethod
    def _id_number(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        try:
            return normalize_id_number(value, today=_now(info).astimezone(SHANGHAI).date())
        except InvalidNumber as exc:
            raise _field_error(exc, "id_number_invalid") from None

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and not _EMAIL_RE.match(value):
            raise PydanticCustomError("email_invalid", "电子邮箱格式不正确 (not a valid e-mail address)")
        return value


class BusinessIn(_Model):
    """The business complained about (被投诉人)."""

    name: str = Field(min_length=1, max_length=200)
    region_code: str = Field(pattern=r"^\d{6}$", description="GB/T 2260 code where the business operates")
    address: str | None = Field(default=None, max_length=300)
    uscc: str | None = Field(default=None, max_length=30, description="统一社会信用代码")
    platform: str | None = Field(default=None, max_length=100, description="e-commerce platform, if any")
    platform_uscc: str | None = Field(default=None, max_length=30,
                                      description="统一社会信用代码 of the platform operator (平台经营者)")

    @field_validator("address", "uscc", "platform", "platform_uscc", mode="before")
    @classmethod
    def _optional(cls, value: Any) -> Any:
        return _blank_to_none(value)

    @field_validator("region_code")
    @classmethod
    def _region(cls, value: str) -> str:
        if not region_exists(value):
            raise PydanticCustomError(
                "region_unknown", "行政区划代码不存在 (unknown GB/T 2260 region code): {code}", {"code": value}
            )
        return value

    @field_validator("uscc")
    @classmethod
    def _uscc(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return normalize_uscc(value)
        except InvalidNumber as exc:
            raise _field_error(exc, "uscc_invalid") from None

    @field_validator("platform_uscc")
    @classmethod
    def _platform_uscc(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return normalize_uscc(value, what=("平台经营者统一社会信用代码", "platform operator's USCC"))
        except InvalidNumber as exc:
            raise _field_error(exc, "uscc_invalid") from None


class ComplaintIn(_Model):
    """A complaint, report or consultation as submitted by staff, the public form or an integrator.

    Validate with ``parse_complaint`` (it supplies "now"). ``received_at`` is always set after
    validation: omitted means now.
    """

    kind: ComplaintKind
    received_at: AwareDatetime = Field(default=None, validate_default=True, description="defaults to now")
    received_by: str | None = Field(default=None, pattern=_AGENCY_CODE_PATTERN, description="agency code")
    complainant: ComplainantIn
    business: BusinessIn
    category: Category
    subject: str = Field(min_length=1, max_length=200)
    description: str = Field(min_length=1, max_length=10_000)
    amount: Decimal | None = Field(default=None, ge=0, max_digits=14, decimal_places=2, description="yuan")
    occurred_on: date | None = None

    @field_validator("received_by", "amount", "occurred_on", mode="before")
    @classmethod
    def _optional(cls, value: Any) -> Any:
        return _blank_to_none(value)

    @field_validator("received_at", mode="before")
    @classmethod
    def _default_now(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None:
            return _now(info)
        if _public(info):
            # The public form's complaint is received when it arrives; a date typed by the submitter
            # would set (or dodge) the statutory deadlines. Refused rather than ignored, so that no
            # client believes a date it sent was recorded.
            raise PydanticCustomError(
                "received_at_not_allowed",
                "公众提交的投诉不能指定接收时间，以提交时间为准 (received_at cannot be set on the public form)",
            )
        return value

    @field_validator("received_at")
    @classmethod
    def _within_bounds(cls, value: datetime, info: ValidationInfo) -> datetime:
        now = _now(info)
        if value > now + CLOCK_SKEW:
            raise PydanticCustomError("datetime_future", "接收时间不能晚于当前时间 (received_at is in the future)")
        if value < now - RECEIVED_AT_MAX_AGE:
            raise PydanticCustomError(
                "datetime_too_old",
                "接收时间不能早于三年前 (received_at is more than three years ago)",
            )
        return min(value, now)

    @field_validator("amount")
    @classmethod
    def _cents(cls, value: Decimal | None) -> Decimal | None:
        return None if value is None else value.quantize(Decimal("0.01"))

    @field_validator("occurred_on")
    @classmethod
    def _occurred_not_future(cls, value: date | None, info: ValidationInfo) -> date | None:
        if value is None:
            return None
        today = _now(info).astimezone(SHANGHAI).date()
        if value > today:
            raise PydanticCustomError("date_future", "发生日期不能晚于今天 (occurred_on is in the future)")
        received = info.data.get("received_at")
        # received_at is already within bounds here (or failed, and then absent): no overflow
        received_on = received.astimezone(SHANGHAI).date() if isinstance(received, datetime) else today
        if value > received_on:
            raise PydanticCustomError(
                "date_after_receipt", "发生日期不能晚于接收日期 (occurred_on is after received_at)"
            )
        if value < years_before(received_on, OCCURRED_ON_MAX_YEARS):
            raise PydanticCustomError(
                "date_too_old",
                "发生日期不能早于接收日期前二十年 (occurred_on is more than twenty years before receipt)",
            )
        return value


def parse_complaint(payload: Mapping[str, Any], now: datetime, *, public: bool = False) -> ComplaintIn:
    """Validate a decoded JSON body; raises ``pydantic.ValidationError`` naming each bad field.

    ``public``: the body comes from the public form, which may not set ``received_at``."""
    return ComplaintIn.model_validate(payload, context={"now": ensure_aware(now), "public": public})


def parse_complaint_json(body: str | bytes, now: datetime) -> ComplaintIn:
    """Same as ``parse_complaint`` for a raw JSON body (amounts keep their exact decimal text)."""
    return ComplaintIn.model_validate_json(body, context={"now": ensure_aware(now)})


def real_identity_required(kind: str, receiving_kind: str) -> bool:
    """A consumer's own complaint (投诉) lodged with a market regulator must name a real person
    (an ID number); reports (举报) may be anonymous and consultations need nothing."""
    return kind == ComplaintKind.COMPLAINT and receiving_kind == AgencyKind.MARKET_REGULATOR


def require_real_identity(data: ComplaintIn, receiving_kind: str) -> None:
    """Raise a ``ValidationError`` on ``complainant.id_number`` when the receiving agency (known
    only after routing) needs a real identity that the complaint does not give."""
    if real_identity_required(data.kind, receiving_kind) and data.complainant.id_number is None:
        error = InitErrorDetails(
            type=PydanticCustomError(
                "real_identity_required",
                "向市场监管部门投诉须提供身份证号码 (an ID number is required for complaints to a market regulator)",
            ),
            loc=("complainant", "id_number"),
            input=None,
        )
        raise ValidationError.from_exception_data(ComplaintIn.__name__, [error], hide_input=True)
