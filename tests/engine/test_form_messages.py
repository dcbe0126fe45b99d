"""A task's form check speaks Chinese: one message per field, naming the field by its title, instead of
jsonschema's English (``'同意' is not valid under any of the given schemas``). The API's 422 and the task
page show these same messages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from engine.bpmn.loader import TaskDefinition
from engine.errors import InvalidInput
from engine.forms import validate_form

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"


def reference_form(file: str, task: str) -> dict[str, Any]:
    """The form of a user task of a reference workflow, as its BPMN file declares it."""
    document = etree.parse(str(WORKFLOWS / file))
    [value] = document.xpath(f'//*[local-name()="userTask"][@id="{task}"]'
                             '//*[local-name()="property"][@name="form"]/@value')
    form: dict[str, Any] = json.loads(str(value))
    return form


def definition(form: dict[str, Any]) -> TaskDefinition:
    return TaskDefinition(process_id="p", name="t", title="t", lane="liaison", form=form, deadline_rule=None,
                          deadline_from=None, deadline_extended=None, properties={})


def messages(form: dict[str, Any], data: Any, own_agency: str | None = None) -> list[tuple[str, str]]:
    with pytest.raises(InvalidInput) as refused:
        validate_form(definition(form), data, own_agency)
    return [(e.field, e.message) for e in refused.value.errors]


REVIEW = reference_form("complaint_handling.bpmn", "review")
# a rejection also names its legal ground and whether a violation clue was found
REJECTION_FIELDS = [("data.ground", "请选择不予受理情形"), ("data.violation_found", "请选择是否发现违法行为线索")]
MEDIATE = reference_form("complaint_handling.bpmn", "mediate")
APPROVE = reference_form("case_conversion.bpmn", "approve_extension")


@pytest.mark.parametrize(("form", "data", "expected"), [
    (REVIEW, {}, [("data.decision", "请选择审查结论")]),
    (REVIEW, {"decision": "同意"}, [("data.decision", "审查结论的取值无效")]),
    (REVIEW, {"decision": 1}, [("data.decision", "审查结论的取值无效")]),
    # required only for some answers (allOf / if / then), named the same way
    (REVIEW, {"decision": "reject"},
     [("data.reason", "请填写理由"), *REJECTION_FIELDS]),
    (REVIEW, {"decision": "transfer"},
     [("data.reason", "请填写理由"), ("data.transfer_to", "请填写转送至（机构代码）")]),
    (REVIEW, {"decision": "reject", "reason": ""},
     [("data.reason", "理由不能为空"), *REJECTION_FIELDS]),
    (REVIEW, {"decision": "reject", "reason": "x" * 2001},
     [("data.reason", "理由不能超过 2000 个字"), *REJECTION_FIELDS]),
    (REVIEW, {"decision": "accept", "colour": "red", "size": 2},
     [("data.colour", "表单没有字段 colour"), ("data.size", "表单没有字段 size")]),
    (MEDIATE, {}, [("data.outcome", "请选择调解结果"), ("data.summary", "请填写调解情况"),
                   ("data.violation_found", "请选择是否发现违法行为线索")]),
    (MEDIATE, {"outcome": "agreement", "summary": "双方同意", "violation_found": "否"},
     [("data.agreement_text", "请填写调解协议内容"), ("data.violation_found", "是否发现违法行为线索须为是或否")]),
    (MEDIATE, {"outcome": "no_agreement", "summary": "未达成", "violation_found": True},
     [("data.violation_description", "请填写违法行为线索描述")]),
    (APPROVE, {"approved": "yes"}, [("data.approved", "是否批准延长核查期限（15个工作日）须为是或否")]),
])
def test_each_field_is_named_by_its_title(form: dict[str, Any], data: dict[str, Any],
                                          expected: list[tuple[str, str]]) -> None:
    assert messages(form, data) == expected


def test_lengths_types_and_ranges_of_other_forms() -> None:
    form = {"type": "object", "properties": {
        "summary": {"type": "string", "title": "摘要", "minLength": 5},
        "count": {"type": "integer", "title": "件数", "minimum": 1, "maximum": 9},
        "rate": {"type": "number", "title": "比例"},
        "code": {"type": "string", "pattern": "^[a-z]+$"},
        "tags": {"type": "array", "title": "标签", "minItems": 1},
    }}
    assert messages(form, {"summary": "短", "count": 0, "rate": "很多", "code": "ABC", "tags": []}) == [
        ("data.summary", "摘要至少 5 个字"), ("data.count", "件数不能小于 1"), ("data.rate", "比例须为数字"),
        ("data.code", "code的格式不正确"), ("data.tags", "标签至少选择 1 项")]
    assert messages(form, {"count": 10, "summary": 5}) == [("data.summary", "摘要须为文字"),
                                                          ("data.count", "件数不能大于 9")]
    assert messages(form, {"count": 1.5}) == [("data.count", "件数须为整数")]


def test_the_own_agency_rule_and_a_body_that_is_no_object_keep_their_messages() -> None:
    assert messages(REVIEW, {"decision": "transfer", "reason": "转", "transfer_to": "th-amr"}, "th-amr") == [
        ("data.transfer_to", "不能填写本单位（th-amr）/ must not be your own agency")]
    assert messages(REVIEW, ["accept"]) == [("data", "须为对象 / must be an object")]


def test_no_english_from_jsonschema_reaches_people() -> None:
    for form in (REVIEW, MEDIATE, APPROVE):
        for data in ({}, {"decision": None, "outcome": 3, "approved": "x", "summary": ""}, {"extra": 1}):
            for _field, message in messages(form, data):
                assert not any(word in message for word in ("is not", "required", "valid", "Additional")), message
