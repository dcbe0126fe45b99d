"""Checking the data a task is completed with against the task's form (a JSON Schema, draft 2020-12),
and the form's extension keywords.

JSON Schema cannot say "not the agency of the person filling in the form": that depends on who
submits it, not on the data alone. A form therefore marks such a field with an extension keyword
on the field's own schema in the form's top-level ``properties``; a standard validator ignores
the keyword, the engine checks it when the task is completed (knowing the completing agency),
and the BPMN validator refuses a keyword it would not enforce (wrong value or wrong place), so a
misspelt or misplaced rule cannot silently stop protecting anything.

    "transfer_to": {"type": "string", "title": "转送至（机构代码）", "x-not-own-agency": true}

The engine knows no field name of any particular workflow: every rule here is declared by the
form that needs it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from jsonschema import Draft202012Validator, ValidationError

from engine.bpmn.loader import TaskDefinition
from engine.errors import FieldError, InvalidInput

NOT_OWN_AGENCY = "x-not-own-agency"
"""On a top-level property: the value must not be the code of the agency completing the task
(e.g. a complaint cannot be transferred to the agency that is transferring it)."""

EXTENSIONS = frozenset({NOT_OWN_AGENCY})

_VALIDATORS: dict[int, tuple[TaskDefinition, Draft202012Validator]] = {}


def _validator(definition: TaskDefinition, form: Mapping[str, Any]) -> Draft202012Validator:
    """One compiled validator per task definition (definitions live as long as their cached spec)."""
    cached = _VALIDATORS.get(id(definition))
    if cached is None or cached[0] is not definition:
        cached = (definition, Draft202012Validator(form))
        _VALIDATORS[id(definition)] = cached
    return cached[1]


def validate_form(definition: TaskDefinition | None, data: Any, own_agency: str | None = None) -> dict[str, Any]:
    """Check submitted data against the task's JSON Schema and the form's extension keywords (e.g. a
    field that must not name ``own_agency``, the completing agency); every error names its field.

    ``data`` comes from the request body as decoded, so anything but an object is refused first."""
    if not isinstance(data, dict):
        raise InvalidInput([FieldError("data", "须为对象 / must be an object")])
    if definition is None or definition.form is None:
        return data
    errors = schema_errors(definition.form, _validator(definition, definition.form).iter_errors(data))
    errors.extend(own_agency_errors(definition.form, data, own_agency))
    if errors:
        raise InvalidInput(errors)
    return data


# ---- the schema's complaints in words people read --------------------------------------------------
#
# jsonschema reports in English and by keyword (``'同意' is not valid under any of the given schemas``).
# People filling in a task's form, and the API's clients that show them its answer, need one sentence
# per field naming the field by its title. When a field breaks several keywords at once, the most basic
# complaint is the one kept (a wrong type before a wrong value, a wrong value before a wrong length).

_RANK = {"type": 0, "required": 1, "additionalProperties": 1, "enum": 2, "const": 2, "oneOf": 2, "anyOf": 2}
_OTHER_RANK = 3
_TYPE_WORDS = {"boolean": "须为是或否", "string": "须为文字", "integer": "须为整数", "number": "须为数字",
               "null": "须为空", "object": "的格式无效", "array": "的格式无效"}


def schema_errors(form: Mapping[str, Any], found: Iterator[ValidationError]) -> list[FieldError]:
    """One Chinese message per field (``data.<key>``) for the schema errors of a submission, in the
    order of the form's fields."""
    best: dict[tuple[str | int, ...], tuple[int, str]] = {}
    for error in found:
        for path, rank, message in _explain(form, error):
            if path not in best or rank < best[path][0]:
                best[path] = (rank, message)
    order = list(_properties(form))

    def position(path: tuple[str | int, ...]) -> tuple[int, str]:
        first = path[0] if path else None
        return (order.index(first) if first in order else len(order), ".".join(str(p) for p in path))

    return [FieldError(".".join(["data", *(str(p) for p in path)]), best[path][1])
            for path in sorted(best, key=position)]


def _explain(form: Mapping[str, Any], error: ValidationError) -> Iterator[tuple[tuple[str | int, ...], int, str]]:
    """(field path, rank, message) for one schema error; ``required`` and ``additionalProperties`` name
    the missing or unknown field, one entry each."""
    path = tuple(error.absolute_path)
    instance = error.instance
    if error.validator == "required":
        present = instance if isinstance(instance, Mapping) else {}
        for name in error.validator_value if isinstance(error.validator_value, list) else []:
            if name not in present:
                schema = _schema_at(form, (*path, name))
                verb = "请选择" if _is_choice(schema) else "请填写"
                yield (*path, name), _RANK["required"], f"{verb}{_title(schema, name)}"
        return
    if error.validator == "additionalProperties":
        known = error.schema.get("properties", {}) if isinstance(error.schema, Mapping) else {}
        for name in instance if isinstance(instance, Mapping) else {}:
            if name not in known:
                yield (*path, str(name)), _RANK["additionalProperties"], f"表单没有字段 {name}"
        return
    schema = _schema_at(form, path)
    title = _title(schema, str(path[-1]) if path else "表单")
    rank = _RANK.get(str(error.validator), _OTHER_RANK)
    yield path, rank, _message(str(error.validator), error.validator_value, title, schema) if path else "表单数据无效"


def _message(keyword: str, value: Any, title: str, schema: Mapping[str, Any]) -> str:
    if keyword == "type":
        if _is_choice(schema) and not _is_boolean(schema):
            return f"{title}的取值无效"
        expected = value if isinstance(value, str) else next((v for v in value if v != "null"), "")
        return f"{title}{_TYPE_WORDS.get(expected, '的格式无效')}"
    if keyword == "minLength":
        return f"{title}不能为空" if value == 1 else f"{title}至少 {value} 个字"
    if keyword == "maxLength":
        return f"{title}不能超过 {value} 个字"
    if keyword in ("minimum", "exclusiveMinimum"):
        return f"{title}不能小于 {value}" if keyword == "minimum" else f"{title}须大于 {value}"
    if keyword in ("maximum", "exclusiveMaximum"):
        return f"{title}不能大于 {value}" if keyword == "maximum" else f"{title}须小于 {value}"
    if keyword in ("pattern", "format"):
        return f"{title}的格式不正确"
    if keyword == "minItems":
        return f"{title}至少选择 {value} 项"
    if keyword == "maxItems":
        return f"{title}最多选择 {value} 项"
    return f"{title}的取值无效"


def _properties(schema: Any) -> Mapping[str, Any]:
    properties = schema.get("properties") if isinstance(schema, Mapping) else None
    return properties if isinstance(properties, Mapping) else {}


def _schema_at(form: Mapping[str, Any], path: Sequence[str | int]) -> Mapping[str, Any]:
    """The form's own schema for the field at ``path`` (through ``properties`` and ``items``), or ``{}``."""
    node: Any = form
    for part in path:
        if isinstance(part, int):
            node = node.get("items") if isinstance(node, Mapping) else None
        else:
            node = _properties(node).get(part)
        if not isinstance(node, Mapping):
            return {}
    found: Mapping[str, Any] = node
    return found


def _title(schema: Mapping[str, Any], fallback: str) -> str:
    title = schema.get("title")
    return title if isinstance(title, str) and title.strip() else fallback


def _is_boolean(schema: Mapping[str, Any]) -> bool:
    kind = schema.get("type")
    return kind == "boolean" or (isinstance(kind, list) and "boolean" in kind)


def _is_choice(schema: Mapping[str, Any]) -> bool:
    """A field answered by choosing (options or yes/no), so a missing answer reads 请选择."""
    return any(key in schema for key in ("oneOf", "anyOf", "enum", "const")) or _is_boolean(schema)


def own_agency_errors(form: Mapping[str, Any], data: Mapping[str, Any], own_agency: str | None) -> list[FieldError]:
    """A field marked ``x-not-own-agency`` that names the completing agency, as a field error."""
    if own_agency is None:
        return []
    return [FieldError(f"data.{name}", f"不能填写本单位（{own_agency}）/ must not be your own agency")
            for name in _marked(form, NOT_OWN_AGENCY) if data.get(name) == own_agency]


def extension_issues(form: Mapping[str, Any]) -> list[str]:
    """Problems with the extension keywords of a form, for the BPMN validator (Chinese / English).

    Each keyword is enforced only as ``true`` on a property of the form's top-level ``properties``
    that holds a string; anywhere else it would be ignored at run time, so it is refused here."""
    issues = []
    properties = form.get("properties")
    top = properties if isinstance(properties, Mapping) else {}
    for path, keyword, value in _keywords(form, ()):
        placed = len(path) == 2 and path[0] == "properties"
        if not placed:
            issues.append(f"表单扩展关键字 {keyword} 只能用于表单顶层 properties 中的字段 / the form keyword "
                          f"{keyword} is only allowed on a field of the form's top-level properties "
                          f"(found at {'/'.join(path) or 'the root'})")
        elif value is not True:
            issues.append(f"表单扩展关键字 {keyword} 的值须为 true / the form keyword {keyword} must be true "
                          f"(field {path[1]})")
        elif not _holds_string(top.get(path[1])):
            issues.append(f"表单扩展关键字 {keyword} 只能用于字符串字段 / the form keyword {keyword} needs a field "
                          f"of type string (field {path[1]})")
    return issues


def _marked(form: Mapping[str, Any], keyword: str) -> Iterator[str]:
    properties = form.get("properties")
    if isinstance(properties, Mapping):
        for name, schema in properties.items():
            if isinstance(schema, Mapping) and schema.get(keyword) is True:
                yield name


def _keywords(node: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], str, Any]]:
    """Every extension keyword anywhere in the schema, with the path of the schema holding it."""
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key in EXTENSIONS:
                yield path, key, value
            yield from _keywords(value, (*path, str(key)))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _keywords(item, (*path, str(index)))


def _holds_string(schema: Any) -> bool:
    if not isinstance(schema, Mapping):
        return False
    kind = schema.get("type")
    return kind == "string" or (isinstance(kind, list) and "string" in kind)
