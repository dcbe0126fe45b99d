"""The two forms of the business administration pages, as typed: a business (name, USCC, region, address,
enrolment in online dispute resolution) and a new user of a business. Each check answers Chinese messages by
field, as the service's refusals are mapped to fields too, so every message stands beside its own input and
in the error summary at the top (GOV.UK pattern)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from engine.errors import FieldError
from web.form_fields import chinese_part

USERNAME = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,48}$")  # as the API's usernames
REGION = re.compile(r"^\d{6}$")
BUSINESS_FIELDS = ("name", "uscc", "region_code", "address", "odr")
USER_FIELDS = ("username", "display_name", "password")
USER_PREFIX = "user-"  # the user form's inputs' ids, apart from the business form's on the same page
MAX_NAME, MAX_USCC, MAX_ADDRESS, MAX_DISPLAY_NAME, MAX_PASSWORD = 200, 30, 300, 100, 200


@dataclass
class Checked:
    """A form's values as typed (kept in the form after a refusal) and its messages by field."""

    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    prefix: str = ""  # of the inputs' ids

    def refuse(self, key: str, message: str) -> None:
        self.errors.setdefault(key, chinese_part(message))

    def refused(self, errors: Iterable[FieldError]) -> None:
        """The service's refusals (``InvalidInput``) beside their fields; one naming no field of this form
        goes beside the form's first field."""
        keys = [key for key in self.values if key not in ("odr",)]
        for error in errors:
            name = error.field.split(".")[-1]
            self.refuse(name if name in keys else keys[0], error.message)

    @property
    def problems(self) -> list[dict[str, str]]:
        """The error summary's lines, in the form's order, each linking to its input."""
        return [{"field": self.prefix + key, "message": message} for key in self.values
                if (message := self.errors.get(key))]


def _text(form: Mapping[str, object], key: str) -> str:
    value = form.get(key)
    return value.strip() if isinstance(value, str) else ""


def _no_nul(checked: Checked, label: str) -> None:
    for key, value in checked.values.items():
        if "\x00" in value:
            checked.refuse(key, f"{label}含有无效字符")


def business_values(form: Mapping[str, object]) -> dict[str, str]:
    values = {key: _text(form, key) for key in BUSINESS_FIELDS}
    values["uscc"] = values["uscc"].upper()
    values["odr"] = "1" if values["odr"] else ""
    return values


def check_business(values: dict[str, str]) -> Checked:
    checked = Checked(values)
    name, uscc, region, address = values["name"], values["uscc"], values["region_code"], values["address"]
    if not name:
        checked.refuse("name", "请填写经营者名称")
    elif len(name) < 2 or len(name) > MAX_NAME:
        checked.refuse("name", f"经营者名称应为 2 至 {MAX_NAME} 个字")
    if len(uscc) > MAX_USCC:
        checked.refuse("uscc", "统一社会信用代码应为18位")
    if not region:
        checked.refuse("region_code", "请填写行政区划代码")
    elif not REGION.match(region):
        checked.refuse("region_code", "行政区划代码应为 6 位数字，如 341222")
    if len(address) > MAX_ADDRESS:
        checked.refuse("address", f"地址最多 {MAX_ADDRESS} 个字")
    _no_nul(checked, "该项")
    return checked


def user_values(form: Mapping[str, object]) -> dict[str, str]:
    values = {key: _text(form, key) for key in USER_FIELDS}
    raw = form.get("password")
    values["password"] = raw if isinstance(raw, str) else ""  # as typed: spaces may belong to a password
    return values


def check_user(values: dict[str, str]) -> Checked:
    checked = Checked(values, prefix=USER_PREFIX)
    username, display_name, password = values["username"], values["display_name"], values["password"]
    if not username:
        checked.refuse("username", "请填写用户名")
    elif not USERNAME.match(username):
        checked.refuse("username", "用户名应为 2 至 49 个字符，只含小写字母、数字、点和连字符，以字母或数字开头")
    if not display_name:
        checked.refuse("display_name", "请填写姓名")
    elif len(display_name) > MAX_DISPLAY_NAME:
        checked.refuse("display_name", f"姓名最多 {MAX_DISPLAY_NAME} 个字")
    if len(password) > MAX_PASSWORD:
        checked.refuse("password", f"密码不能超过 {MAX_PASSWORD} 个字符")
    _no_nul(checked, "该项")
    return checked
