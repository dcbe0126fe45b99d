"""The complaint body (DESIGN §5) as a validated model: what intake accepts, nothing more.

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

    @field_validator("address", "uscc", "platform", mode="before")
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


class ComplaintIn(_Model):
    """A complaint, report or consultation as submitted (DESIGN §5).

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
        return _now(info) if value is None else value

    @field_validator("received_at")
    @classmethod
    def _not_future(cls, value: datetime, info: ValidationInfo) -> datetime:
        now = _now(info)
        if value > now + CLOCK_SKEW:
            raise PydanticCustomError("datetime_future", "接收时间不能晚于当前时间 (received_at is in the future)")
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
        if isinstance(received, datetime) and value > received.astimezone(SHANGHAI).date():
            raise PydanticCustomError(
                "date_after_receipt", "发生日期不能晚于接收日期 (occurred_on is after received_at)"
            )
        return value


def parse_complaint(payload: Mapping[str, Any], now: datetime) -> ComplaintIn:
    """Validate a decoded JSON body; raises ``pydantic.ValidationError`` naming each bad field."""
    return ComplaintIn.model_validate(payload, context={"now": ensure_aware(now)})


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
