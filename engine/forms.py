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

from collections.abc import Iterator, Mapping
from typing import Any

from jsonschema import Draft202012Validator

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
    errors = []
    for error in sorted(_validator(definition, definition.form).iter_errors(data), key=lambda e: list(e.absolute_path)):
        path = ".".join(str(p) for p in error.absolute_path)
        if error.validator in ("required", "additionalProperties"):
            named = error.message.split("'")[1] if "'" in error.message else path
            path = ".".join(filter(None, [path, named]))
        errors.append(FieldError(f"data.{path}" if path else "data", error.message))
    errors.extend(own_agency_errors(definition.form, data, own_agency))
    if errors:
        raise InvalidInput(errors)
    return data


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
