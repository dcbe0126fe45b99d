"""A task's form (a JSON Schema) as the fields a page renders, and a posted HTML form back as JSON data.

The forms come from the BPMN files the admins edit, so nothing here knows a particular field: every
widget follows from the schema. A field's ``name`` is its key and its label its ``title``. Options
(``oneOf: [{const, title}]`` or ``enum``) are radio buttons when there are few, else a select; a
boolean is a 是/否 choice; a long text (``maxLength`` over ``LONG_TEXT``) a textarea.

Requirements that depend on another answer (``allOf: [{if: {properties: {x: {const|enum}}}, then:
{required: [...]}}]``) become conditions: the page says when the field is needed in words, and the
page's script hides the field while its condition does not hold.

A browser posts text only: ``parse_submission`` turns it back into the schema's types (``"true"`` →
``True``, a number field's digits → a number, an option's posted value → the option's own value) and
leaves an empty answer out, so a missing required answer reads 请填写… rather than a length error.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.errors import FieldError

LONG_TEXT = 200  # a text field allowing more than this many characters is a textarea
MAX_RADIOS = 4  # more options than this: a select
AGENCY_CODE_HINT = "机构代码"  # a field whose title names an agency code offers the agencies as suggestions
NOT_OWN_AGENCY = "x-not-own-agency"
_INTEGER = re.compile(r"[+-]?\d{1,18}")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
BOOLEAN_OPTIONS = ((True, "是"), (False, "否"))


@dataclass(frozen=True)
class Option:
    value: str  # as the browser posts it
    label: str
    id: str  # the radio button's id (the first one's is the field's own, for links to the field)


@dataclass(frozen=True)
class Condition:
    """The field is required when ``field`` has one of ``values`` (posted values)."""

    field: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class FormField:
    key: str
    title: str
    widget: str  # text · textarea · number · radios · select
    required: bool
    options: tuple[Option, ...] = ()
    conditions: tuple[Condition, ...] = ()
    hint: str = ""  # when the field is required, in words (a conditional field)
    max_length: int | None = None
    agency_code: bool = False  # offer the agencies' codes as suggestions
    choices: Mapping[str, Any] = field(default_factory=dict)  # posted value → the schema's value
    kind: str = "string"  # the schema's type

    @property
    def id(self) -> str:
        return f"field-{self.key}"

    @property
    def conditional(self) -> bool:
        return bool(self.conditions) and not self.required

    @property
    def conditions_json(self) -> str:
        """The conditions for the page's script (``data-conditions``)."""
        return json.dumps([{"field": c.field, "values": list(c.values)} for c in self.conditions],
                          ensure_ascii=False)


def form_fields(form: Mapping[str, Any] | None) -> list[FormField]:
    """The fields of a task's form, in the form's order."""
    properties = _mapping(form.get("properties")) if form else {}
    if not form or not properties:
        return []
    required = {name for name in _strings(form.get("required"))}
    labels = {key: _option_labels(_mapping(schema)) for key, schema in properties.items()}
    conditions = _conditions(form)
    fields = []
    for key, raw in properties.items():
        schema = _mapping(raw)
        title = _text(schema.get("title")) or key
        kind = _kind(schema)
        found = conditions.get(key, [])
        hint = "；".join(_hint(condition, properties, labels) for condition in found) + ("时必填" if found else "")
        options = labels[key]
        choices = {_posted(value): value for value, _label in options}
        max_length = schema.get("maxLength") if isinstance(schema.get("maxLength"), int) else None
        fields.append(FormField(
            key=key, title=title, widget=_widget(kind, options, max_length), required=key in required,
            options=tuple(Option(_posted(value), label, f"field-{key}" if n == 0 else f"field-{key}-{n + 1}")
                          for n, (value, label) in enumerate(options)),
            conditions=tuple(found), hint="" if key in required else hint, max_length=max_length,
            agency_code=schema.get(NOT_OWN_AGENCY) is True or AGENCY_CODE_HINT in title,
            choices=choices, kind=kind))
    return fields


def parse_submission(fields: Sequence[FormField], posted: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """(the data for the task's completion, the answers as typed — to show again after an error).

    Only the form's own fields are read (the CSRF token and anything else posted is not data); an
    empty answer is left out; an answer that does not convert stays text, so that the form's check
    names the field (须为数字, 取值无效) instead of the page guessing."""
    data: dict[str, Any] = {}
    typed: dict[str, str] = {}
    for item in fields:
        raw = posted.get(item.key)
        if raw is None:
            continue
        typed[item.key] = raw
        answer = raw.strip()
        if not answer:
            continue
        data[item.key] = _convert(item, answer)
    return data, typed


def _convert(item: FormField, answer: str) -> Any:
    if item.choices:
        return item.choices.get(answer, answer)
    if item.kind == "integer" and _INTEGER.fullmatch(answer):
        return int(answer)
    if item.kind == "number" and _NUMBER.fullmatch(answer):
        number = float(answer)
        if math.isfinite(number):
            return int(number) if number.is_integer() and "." not in answer else number
    return answer


_ENGLISH_HALF = re.compile(r"\s*/\s+(?=[A-Za-z])")


def chinese_part(message: str) -> str:
    """The Chinese half of a bilingual message (``中文 / English``, also written ``中文（x）/ English``)."""
    return _ENGLISH_HALF.split(message, maxsplit=1)[0]


@dataclass(frozen=True)
class Problem:
    """One line of a page's error summary: the message, and the id of the field it is about (if any)."""

    message: str
    target: str | None = None


def field_problems(fields: Iterable[FormField], errors: Iterable[FieldError]) -> tuple[dict[str, str], list[Problem]]:
    """The engine's field errors (``data.<key>``) as (message beside each field by key, the summary's
    lines in the form's order); an error about no field of the form is in the summary alone."""
    keys = [item.key for item in fields]
    beside: dict[str, str] = {}
    loose: list[Problem] = []
    for error in errors:
        path = error.field.split(".")
        key = path[1] if len(path) > 1 and path[0] == "data" else None
        message = chinese_part(error.message)
        if key in keys and key is not None:
            beside.setdefault(key, message)
        else:
            loose.append(Problem(message))
    summary = [Problem(beside[key], f"field-{key}") for key in keys if key in beside]
    return beside, summary + loose


# ---- reading the schema ---------------------------------------------------------------------------------


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _strings(value: Any) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _kind(schema: Mapping[str, Any]) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    return kind if isinstance(kind, str) else "string"


def _posted(value: Any) -> str:
    """How a browser posts an option's value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _option_labels(schema: Mapping[str, Any]) -> list[tuple[Any, str]]:
    """(value, label) of a field's options: ``oneOf``/``anyOf`` of ``const`` with titles, an ``enum``, or
    是/否 for a boolean; no options for anything else."""
    for keyword in ("oneOf", "anyOf"):
        branches = schema.get(keyword)
        if isinstance(branches, list) and branches and all(isinstance(b, Mapping) and "const" in b for b in branches):
            return [(b["const"], _text(b.get("title")) or _posted(b["const"])) for b in branches]
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        return [(value, "是" if value is True else "否" if value is False else _posted(value)) for value in enum]
    if _kind(schema) == "boolean":
        return list(BOOLEAN_OPTIONS)
    return []


def _widget(kind: str, options: Sequence[tuple[Any, str]], max_length: int | None) -> str:
    if options:
        return "radios" if len(options) <= MAX_RADIOS else "select"
    if kind in ("integer", "number"):
        return "number"
    return "textarea" if max_length is None or max_length > LONG_TEXT else "text"


def _conditions(form: Mapping[str, Any]) -> dict[str, list[Condition]]:
    """Field → the conditions under which it is required, from ``if``/``then`` pairs at the top of the
    form or in its ``allOf`` whose ``if`` tests one field for a value (``const``) or values (``enum``)."""
    pairs = [form, *(_mapping(item) for item in form.get("allOf", []) if isinstance(form.get("allOf"), list))]
    found: dict[str, list[Condition]] = {}
    for pair in pairs:
        test, then = _mapping(pair.get("if")), _mapping(pair.get("then"))
        tested = _mapping(test.get("properties"))
        if len(tested) != 1 or not then:
            continue
        [(name, rule)] = tested.items()
        rule = _mapping(rule)
        values = [rule["const"]] if "const" in rule else rule.get("enum")
        if not isinstance(values, list) or not values:
            continue
        condition = Condition(name, tuple(_posted(value) for value in values))
        for target in _strings(then.get("required")):
            found.setdefault(target, []).append(condition)
    return found


def _hint(condition: Condition, properties: Mapping[str, Any], labels: Mapping[str, list[tuple[Any, str]]]) -> str:
    """「审查结论为“不予受理”或“转送”」: the tested field by its title, its values by their labels."""
    schema = _mapping(properties.get(condition.field))
    names = {_posted(value): label for value, label in labels.get(condition.field, [])}
    said = "或".join(f"“{names.get(value, value)}”" for value in condition.values)
    return f"{_text(schema.get('title')) or condition.field}为{said}"
