"""Every template renders in Chinese with its documented context; nothing silently renders empty."""

from __future__ import annotations

from pathlib import Path

import pytest

from notifications.rendering import TEMPLATES, TemplateError, render

COMPLAINANT = {"complainant_name": "张三", "tracking_no": "TS2026111800000018", "agency_name": "太和县市场监督管理局"}
TASK = {"task_title": "受理审查", "due_date": "2026-11-27", "agency_name": "太和县市场监督管理局", "assignee": ""}
CONTEXTS = {
    "acceptance": COMPLAINANT,
    "rejection": {**COMPLAINANT, "reason": "不属于本部门职责范围"},
    "transfer": {**COMPLAINANT, "from_agency_name": "太和县市场监督管理局", "to_agency_name": "临泉县市场监督管理局",
                 "reason": "经营地在临泉"},
    "termination": {**COMPLAINANT, "outcome": "timeout", "summary": "调解期限届满"},
    "agreement": {**COMPLAINANT, "agreement_text": "商家退款 2999 元"},
    "case_filed": {**COMPLAINANT, "case_no": "太市监诉转案〔2026〕17号"},
    "case_not_filed": {**COMPLAINANT, "reason": "不构成违法"},
    "association_acceptance": COMPLAINANT,
    "referral": {**COMPLAINANT, "to_agency_name": "太和县市场监督管理局", "reason": "涉嫌违法"},
    "reminder": TASK,
    "overdue": TASK,
    "escalation": TASK,
    "digest": {"count": 2, "items": [{"subject": "【即将到期】受理审查", "text": ""}, {"subject": "【即将到期】办结",
                                                                                      "text": ""}]},
}
EXPECTED = {"termination": "第三十九条", "transfer": "临泉县市场监督管理局", "case_filed": "太市监诉转案〔2026〕17号",
            "rejection": "不属于本部门职责范围", "digest": "2 项"}


def test_every_template_has_a_documented_context() -> None:
    assert set(TEMPLATES) == set(CONTEXTS)


@pytest.mark.parametrize("name", sorted(CONTEXTS))
def test_template_renders_subject_text_and_html(name: str) -> None:
    rendered = render(name, CONTEXTS[name])
    assert rendered.subject and rendered.text
    assert rendered.html.startswith("<!doctype html>") and rendered.subject in rendered.html
    if name in EXPECTED:
        assert EXPECTED[name] in rendered.subject + rendered.text


@pytest.mark.parametrize("name", sorted(CONTEXTS))
def test_a_missing_variable_is_an_error(name: str) -> None:
    context = dict(CONTEXTS[name])
    context.pop(next(iter(context)))
    with pytest.raises(TemplateError, match="undefined"):
        render(name, context)


def test_html_is_escaped_and_text_is_not() -> None:
    rendered = render("rejection", {**CONTEXTS["rejection"], "reason": "<script>alert(1)</script>"})
    assert "<script>" in rendered.text
    assert "<script>" not in rendered.html and "&lt;script&gt;" in rendered.html


def test_an_admin_override_directory_wins(tmp_path: Path) -> None:
    (tmp_path / "acceptance.j2").write_text(
        "{% block subject %}【太和】已受理 {{ tracking_no }}{% endblock %}{% block text %}{{ complainant_name }}，"
        "已受理。{% endblock %}", encoding="utf-8")
    rendered = render("acceptance", COMPLAINANT, str(tmp_path))
    assert rendered.subject == "【太和】已受理 TS2026111800000018"
    assert render("rejection", CONTEXTS["rejection"], str(tmp_path)).subject.startswith("投诉不予受理")


def test_an_unknown_template_is_an_error() -> None:
    with pytest.raises(TemplateError, match="unknown notice template"):
        render("nope", {})
