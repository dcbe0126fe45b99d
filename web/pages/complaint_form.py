"""The complaint fields shared by the public form (``/public/complaints/new``) and staff intake
(``/complaints/new``): what each asks, how the posted form becomes the intake body, and every
refusal of it in Chinese beside its field.

The rules are intake's own (``agencies.intake.ComplaintIn``): the posted values are checked with the
same model before submitting, so each pydantic error comes with its type and limits, and is put into
words naming the field (「请填写联系电话」「事项简述不能超过 200 个字」) instead of showing the API's English.
What only submitting can tell (no regulator for the region, an ID number a regulator needs) comes
back as ``InvalidInput`` with a bilingual message, whose Chinese part is shown.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from agencies.input_messages import chinese_message
from agencies.intake import parse_complaint
from agencies.service_area import RegionGroup
from agencies.vocab import CATEGORY_LABELS
from engine.errors import FieldError
from web.pages.render import chinese

FORM_ID = "complaint-form"  # the anchor of an error that belongs to no one field


@dataclass(frozen=True)
class Field:
    """One question: ``key`` is both the input's ``name`` and the intake body's path (``complainant.phone``)."""

    key: str
    label: str
    widget: str  # text · textarea · select · radios · region · date · datetime
    required: bool = False
    hint: str = ""
    autocomplete: str = "off"
    inputmode: str = ""
    maxlength: int | None = None
    options: tuple[tuple[str, str], ...] = ()  # (value, label)
    wide: bool = False  # a long text input

    @property
    def id(self) -> str:
        return self.key.replace(".", "-").replace("_", "-")

    @property
    def choice(self) -> bool:
        return self.widget in ("select", "radios", "region")


@dataclass(frozen=True)
class Section:
    legend: str
    fields: tuple[Field, ...]


KIND_OPTIONS = (("complaint", "投诉（与经营者发生消费纠纷，请求调解）"), ("report", "举报（反映经营者的违法行为线索）"),
                ("consultation", "咨询"))
CATEGORY_OPTIONS = tuple((category.value, label) for category, label in CATEGORY_LABELS.items())

KIND = Field("kind", "事项类型", "radios", required=True, options=KIND_OPTIONS)
RECEIVED_AT = Field("received_at", "接收时间", "datetime",
                    hint="留空即为现在；电话、来访登记的，请填写实际接到投诉的时间")
PERSON = (
    Field("complainant.name", "姓名", "text", required=True, autocomplete="name", maxlength=100),
    Field("complainant.phone", "联系电话", "text", required=True, autocomplete="tel", inputmode="tel", maxlength=40,
          hint="手机号码，或带区号的固定电话"),
    Field("complainant.id_number", "身份证号码", "text", autocomplete="off", maxlength=20,
          hint="向市场监管部门投诉须实名，请填写 18 位居民身份证号码；举报、咨询可不填"),
    Field("complainant.email", "电子邮箱", "text", autocomplete="email", inputmode="email", maxlength=254,
          hint="选填，用于接收办理进度通知"),
)
BUSINESS = (
    Field("business.name", "经营者名称", "text", required=True, autocomplete="organization", maxlength=200, wide=True,
          hint="营业执照或店铺招牌上的名称"),
    Field("business.region_code", "经营者所在地区", "region", required=True,
          hint="经营者实际经营的地方，投诉将转交当地市场监督管理部门"),
    Field("business.address", "经营地址", "text", maxlength=300, wide=True, hint="选填，便于承办单位联系经营者"),
    Field("business.uscc", "统一社会信用代码", "text", maxlength=30, hint="选填，营业执照上的 18 位代码"),
    Field("business.platform", "网购平台", "text", maxlength=100, hint="在网上购买的，请填写平台名称，如 淘宝、京东"),
    Field("business.platform_uscc", "平台经营者统一社会信用代码", "text", maxlength=30,
          hint="选填，网购平台经营者的 18 位代码；平台所在地的市场监管部门也可处理该投诉"),
)
MATTER = (
    Field("category", "投诉类别", "select", required=True, options=CATEGORY_OPTIONS),
    Field("subject", "事项简述", "text", required=True, maxlength=200, wide=True,
          hint="一句话概括，如：空调安装后不制冷"),
    Field("description", "详细情况与诉求", "textarea", required=True, maxlength=10_000,
          hint="购买时间、经过、与经营者协商的情况，以及您的具体要求（退货、换货、赔偿等）"),
    Field("amount", "涉及金额（元）", "text", inputmode="decimal", maxlength=20, hint="选填，如 3299.00"),
    Field("occurred_on", "发生日期", "date", hint="选填，购买或发生纠纷的日期"),
)


EVIDENCE = Field("files", "证据材料", "files",
                 hint="选填，最多 5 个文件，每个不超过 20 MB：发票、合同、聊天记录截图、照片等，可提交图片、PDF、"
                      "Office 文档和文本文件")
"""The public form's evidence files: not part of the intake body, posted beside it (multipart)."""


def _known(*, staff: bool) -> dict[str, Field]:
    """The fields an error may stand beside: the questions, and on the public form the evidence."""
    return {f.key: f for f in fields(staff=staff)} | ({} if staff else {EVIDENCE.key: EVIDENCE})


def evidence_refused(message: str) -> FormErrors:
    """A refusal of the evidence files (too large before the form could be read), beside their field."""
    errors = FormErrors()
    errors.add(EVIDENCE.key, _plain_chinese(message, EVIDENCE), {EVIDENCE.key: EVIDENCE})
    return errors


def sections(*, staff: bool) -> tuple[Section, ...]:
    """The questions, grouped as the form shows them."""
    first = Section("登记信息", (KIND, RECEIVED_AT)) if staff else Section("您要办理的事项", (KIND,))
    return (first,
            Section("投诉人信息" if staff else "您的信息", PERSON),
            Section("被投诉经营者", BUSINESS),
            Section("投诉内容", MATTER))


def fields(*, staff: bool) -> tuple[Field, ...]:
    return tuple(f for section in sections(staff=staff) for f in section.fields)


def blank(*, staff: bool) -> dict[str, str]:
    """The values of a new form: a complaint, everything else empty."""
    return {f.key: "" for f in fields(staff=staff)} | {"kind": "complaint"}


def values_of(form: Mapping[str, Any], *, staff: bool) -> dict[str, str]:
    """The posted values of this form's fields as typed (anything else posted is ignored)."""
    values = {}
    for f in fields(staff=staff):
        raw = form.get(f.key)
        values[f.key] = raw if isinstance(raw, str) else ""
    return values


_LOCAL_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?$")


def payload_of(values: Mapping[str, str], *, staff: bool) -> dict[str, Any]:
    """The intake body: nested as ``ComplaintIn`` is. A ``datetime-local`` value is China time."""
    body: dict[str, Any] = {"complainant": {}, "business": {}}
    for f in fields(staff=staff):
        value = values.get(f.key, "")
        if f.key == "received_at":
            if not value.strip():
                continue
            value = value.strip() + "+08:00" if _LOCAL_DATETIME.match(value.strip()) else value
        if f.key == "amount":
            value = value.replace(",", "").replace("，", "").replace("¥", "").replace("￥", "")
        group, _, name = f.key.rpartition(".")
        (body[group] if group else body)[name] = value
    return body


@dataclass
class FormErrors:
    """Messages by field key, in the order of the form; ``general`` for those of no one field."""

    by_field: dict[str, str] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.by_field or self.general)

    def add(self, key: str, message: str, known: Mapping[str, Field]) -> None:
        if key in known:
            self.by_field.setdefault(key, message)
        elif message not in self.general:
            self.general.append(message)

    def summary(self, form_fields: tuple[Field, ...]) -> list[dict[str, str]]:
        """The error summary's entries, each a link to its field, in the order of the form."""
        listed = [{"href": f"#{f.id}", "message": self.by_field[f.key]} for f in form_fields if f.key in self.by_field]
        return listed + [{"href": f"#{FORM_ID}", "message": message} for message in self.general]


def _plain_chinese(message: str, f: Field | None) -> str:
    """The Chinese part of a bilingual message: ``中文 / English`` or ``中文 (English)``; a message with no
    Chinese at all names the field instead."""
    text = chinese(message)
    text = re.split(r"\s\((?=[A-Za-z])", text, maxsplit=1)[0].strip()
    if re.search(r"[\u4e00-\u9fff]", text):
        return text
    return f"{f.label}填写有误" if f is not None else "提交的内容有误，请检查后重试"


def _message(error: Mapping[str, Any], f: Field | None) -> str:
    """One pydantic error in words that name the field: an empty answer asks for it (请填写…, 请选择…),
    anything else says what is wrong as the API does (``agencies.input_messages``), Chinese part only."""
    if f is None:
        return _plain_chinese(str(error.get("msg", "")), None)
    kind = str(error.get("type", ""))
    if kind in ("missing", "string_too_short") or (f.choice and kind in ("enum", "literal_error",
                                                                           "string_pattern_mismatch")):
        return f"请选择{f.label}" if f.choice else f"请填写{f.label}"
    return _plain_chinese(chinese_message(error, f.label), f)


def check(values: Mapping[str, str], now: datetime, *, staff: bool) -> tuple[dict[str, Any], FormErrors]:
    """The intake body of the posted values, and what intake's rules refuse in it (empty when nothing)."""
    payload = payload_of(values, staff=staff)
    errors = FormErrors()
    known = {f.key: f for f in fields(staff=staff)}
    try:
        parse_complaint(payload, now, public=not staff)
    except ValidationError as exc:
        for error in exc.errors():
            key = ".".join(str(part) for part in error["loc"])
            errors.add(key, _message(error, known.get(key)), known)
    return payload, errors


def refused(field_errors: list[FieldError], *, staff: bool) -> FormErrors:
    """``InvalidInput`` from submitting, beside the fields it names."""
    errors = FormErrors()
    known = _known(staff=staff)
    for error in field_errors:
        errors.add(error.field, _plain_chinese(error.message, known.get(error.field)), known)
    return errors


def context(values: Mapping[str, str], errors: FormErrors, regions: list[RegionGroup], *,
            staff: bool) -> dict[str, Any]:
    """What ``_complaint_form.html`` renders."""
    return {"sections": sections(staff=staff), "values": values, "errors": errors.by_field,
            "summary": errors.summary(tuple(_known(staff=staff).values())), "region_groups": regions,
            "form_id": FORM_ID, "evidence": None if staff else EVIDENCE}
