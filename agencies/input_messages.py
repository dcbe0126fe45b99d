"""Pydantic's validation errors in Chinese: each message names the field by its Chinese label and says
what is wrong, the way the product's own messages are written (``中文 / English``).

Pydantic words its errors in English only ("Field required", "String should have at most 500
characters") and names the key ("reason"). People read these messages — beside a form field, in the
API's 422 — so each error type gets a Chinese sentence, and the key a Chinese label; pydantic's
English follows after `` / `` for integrators. A message the product wrote itself (a custom error
already in Chinese, e.g. 「接收时间不能晚于当前时间」) is kept as it is.

Lives here, not in ``web``, because intake turns the complaint body's errors into field errors in this
package; ``web.field_labels`` adds the labels of the API's own parameters.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# the complaint body (agencies.intake.ComplaintIn), by field path
COMPLAINT_LABELS: dict[str, str] = {
    "kind": "类型",
    "received_at": "接收时间",
    "received_by": "接收单位",
    "complainant": "投诉人",
    "complainant.name": "投诉人姓名",
    "complainant.phone": "投诉人电话",
    "complainant.id_number": "投诉人身份证号码",
    "complainant.email": "投诉人电子邮箱",
    "business": "被投诉经营者",
    "business.name": "经营者名称",
    "business.region_code": "经营者所在地区代码",
    "business.address": "经营者地址",
    "business.uscc": "统一社会信用代码",
    "business.platform": "电商平台",
    "business.platform_uscc": "平台经营者统一社会信用代码",
    "category": "问题类别",
    "subject": "标题",
    "description": "投诉内容",
    "amount": "涉及金额",
    "occurred_on": "发生日期",
}

_DATE = "格式如 2026-11-27"
_DATETIME = "格式如 2026-11-27T09:00:00+08:00"

# pydantic's error type → what is wrong, in Chinese; {label} is the field, the rest come from the error's ctx
TEMPLATES: dict[str, str] = {
    "missing": "{label}不能为空",
    "missing_argument": "{label}不能为空",
    "missing_keyword_only_argument": "{label}不能为空",
    "missing_positional_only_argument": "{label}不能为空",
    "extra_forbidden": "不支持的字段：{label}",
    "unexpected_keyword_argument": "不支持的字段：{label}",
    "none_required": "{label}须为空",
    "string_type": "{label}须为文本",
    "string_unicode": "{label}须为有效的 Unicode 文本",
    "string_too_short": "{label}至少 {min_length} 个字",
    "string_too_long": "{label}不能超过 {max_length} 个字",
    "string_pattern_mismatch": "{label}格式不正确",
    "string_not_ascii": "{label}只能包含 ASCII 字符",
    "too_short": "{label}至少需要 {min_length} 项",
    "too_long": "{label}最多 {max_length} 项",
    "int_type": "{label}须为整数",
    "int_parsing": "{label}须为整数",
    "int_parsing_size": "{label}超出整数范围",
    "int_from_float": "{label}须为整数，不能带小数",
    "float_type": "{label}须为数字",
    "float_parsing": "{label}须为数字",
    "finite_number": "{label}须为有限的数字",
    "decimal_type": "{label}须为数字",
    "decimal_parsing": "{label}须为数字",
    "decimal_max_digits": "{label}最多 {max_digits} 位数字",
    "decimal_max_places": "{label}最多保留 {decimal_places} 位小数",
    "decimal_whole_digits": "{label}的整数部分最多 {whole_digits} 位",
    "greater_than": "{label}须大于 {gt}",
    "greater_than_equal": "{label}不能小于 {ge}",
    "less_than": "{label}须小于 {lt}",
    "less_than_equal": "{label}不能大于 {le}",
    "multiple_of": "{label}须为 {multiple_of} 的倍数",
    "bool_type": "{label}须为 true 或 false",
    "bool_parsing": "{label}须为 true 或 false",
    "date_type": f"{{label}}须为日期，{_DATE}",
    "date_parsing": f"{{label}}须为日期，{_DATE}",
    "date_from_datetime_parsing": f"{{label}}须为日期，{_DATE}",
    "date_from_datetime_inexact": f"{{label}}须为日期，不能带时间，{_DATE}",
    "date_past": "{label}须早于今天",
    "date_future": "{label}须晚于今天",
    "time_type": "{label}须为时间，格式如 09:30",
    "time_parsing": "{label}须为时间，格式如 09:30",
    "datetime_type": f"{{label}}须为日期时间，{_DATETIME}",
    "datetime_parsing": f"{{label}}须为日期时间，{_DATETIME}",
    "datetime_from_date_parsing": f"{{label}}须为日期时间，{_DATETIME}",
    "datetime_object_invalid": f"{{label}}须为日期时间，{_DATETIME}",
    "datetime_past": "{label}须早于当前时间",
    "datetime_future": "{label}须晚于当前时间",
    "timezone_naive": "{label}不能带时区",
    "timezone_aware": f"{{label}}须带时区（如 +08:00），{_DATETIME}",
    "timezone_offset": "{label}的时区不正确",
    "time_delta_type": "{label}须为时长",
    "time_delta_parsing": "{label}须为时长",
    "literal_error": "{label}须为以下之一：{expected}",
    "enum": "{label}须为以下之一：{expected}",
    "json_invalid": "JSON 格式错误",
    "json_type": "{label}须为 JSON 文本",
    "dict_type": "{label}须为对象（键值对）",
    "mapping_type": "{label}须为对象（键值对）",
    "model_type": "{label}须为对象（键值对）",
    "model_attributes_type": "{label}须为对象（键值对）",
    "dataclass_type": "{label}须为对象（键值对）",
    "list_type": "{label}须为列表",
    "tuple_type": "{label}须为列表",
    "set_type": "{label}须为列表",
    "frozen_set_type": "{label}须为列表",
    "iterable_type": "{label}须为列表",
    "set_item_not_hashable": "{label}包含无法比较的项",
    "bytes_type": "{label}须为文本",
    "bytes_too_short": "{label}至少需要 {min_length} 个字节",
    "bytes_too_long": "{label}不能超过 {max_length} 个字节",
    "bytes_invalid_encoding": "{label}的编码不正确",
    "url_type": "{label}须为网址",
    "url_parsing": "{label}不是有效的网址",
    "url_syntax_violation": "{label}不是有效的网址",
    "url_too_long": "{label}过长，网址最多 {max_length} 个字符",
    "url_scheme": "{label}的网址协议须为 {expected_schemes}",
    "uuid_type": "{label}须为 UUID",
    "uuid_parsing": "{label}不是有效的 UUID",
    "uuid_version": "{label}的 UUID 版本须为 {expected_version}",
    "union_tag_invalid": "{label}的类型标记无效",
    "union_tag_not_found": "{label}缺少类型标记",
    "frozen_field": "{label}不能修改",
    "frozen_instance": "{label}不能修改",
    "recursion_loop": "{label}嵌套过深",
    "value_error": "{label}的值无效",
    "assertion_error": "{label}的值无效",
}
FALLBACK = "{label}的值无效"

_CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
_INDEX = re.compile(r"\d+")


def has_chinese(text: str) -> bool:
    return bool(_CJK.search(text))


def label_of(path: str, labels: Mapping[str, str]) -> str:
    """The Chinese label of a dotted field path (``complainant.phone``, ``roles.0``): the whole path's
    label, else its last key's, else the key itself; list items as 「角色（第 1 项）」."""
    keys = path.split(".")
    index = int(keys[-1]) + 1 if len(keys) > 1 and _INDEX.fullmatch(keys[-1]) else None
    named = [key for key in keys if not _INDEX.fullmatch(key)] or keys
    label = labels.get(".".join(named)) or labels.get(named[-1]) or named[-1]
    return f"{label}（第 {index} 项）" if index is not None else label


def _choices(expected: Any) -> str:
    """pydantic's ``'me' or 'unassigned'`` as 「'me'、'unassigned'」."""
    return re.sub(r",\s*|\s+or\s+", "、", str(expected))


class _Context(dict[str, Any]):
    def __missing__(self, key: str) -> str:  # a ctx value pydantic did not give: never a KeyError
        return "?"


def chinese_message(error: Mapping[str, Any], label: str) -> str:
    """``中文 / English`` for one of pydantic's errors (``ValidationError.errors()``), naming the field by
    ``label``. A message already in Chinese (the product's own custom error) is kept."""
    english = str(error.get("msg") or "invalid value")
    if has_chinese(english):
        return english.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    kind = str(error.get("type") or "")
    raw_ctx = error.get("ctx")
    ctx = _Context({key: str(value) for key, value in raw_ctx.items()} if isinstance(raw_ctx, Mapping) else {})
    if kind == "json_invalid":
        return f"JSON 格式错误 / malformed JSON: {ctx.get('error', english)}"
    ctx["label"] = label if has_chinese(label) else f"“{label}”"
    if "expected" in ctx:
        ctx["expected"] = _choices(ctx["expected"])
    template = TEMPLATES.get(kind, FALLBACK)
    if kind in ("string_too_short", "too_short") and ctx.get("min_length") == "1":
        template = "{label}不能为空"
    return f"{template.format_map(ctx)} / {english}"
