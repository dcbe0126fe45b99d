"""Every template renders in Chinese with its documented context; nothing silently renders empty."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from notifications.errors import TemplateError, UnknownTemplate
from notifications.rendering import (
    BUILT_IN,
    TEMPLATE_NAMES,
    check_templates,
    documented_variables,
    render,
    used_variables,
)
from notifications.samples import SAMPLE_CONTEXTS

CHINESE = re.compile(r"[\u4e00-\u9fff]")
EVENTS = {"acceptance", "rejection", "transfer", "termination", "agreement", "case_filed", "case_not_filed",
          "association_acceptance", "referral", "reminder", "overdue", "escalation"}
VARIABLES = [(name, variable) for name in TEMPLATE_NAMES for variable in sorted(documented_variables(name))]


def test_there_is_one_template_per_event_plus_the_digest() -> None:
    assert set(TEMPLATE_NAMES) == EVENTS | {"digest"}
    assert {p.stem for p in BUILT_IN.glob("*.j2") if not p.name.startswith("_")} == set(TEMPLATE_NAMES)


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_the_header_documents_exactly_the_variables_the_template_uses(name: str) -> None:
    assert documented_variables(name), f"{name}.j2 has no 'context:' line in its header"
    assert documented_variables(name) == used_variables(name) == set(SAMPLE_CONTEXTS[name])


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_renders_a_chinese_subject_text_and_html(name: str) -> None:
    rendered = render(name, SAMPLE_CONTEXTS[name])
    assert CHINESE.search(rendered.subject) and "\n" not in rendered.subject
    assert CHINESE.search(rendered.text) and rendered.text == rendered.text.strip()
    assert rendered.html.startswith("<!doctype html>") and f"<title>{rendered.subject}</title>" in rendered.html
    for line in rendered.text.splitlines():
        assert f"<p>{line}</p>" in rendered.html


@pytest.mark.parametrize(("name", "variable"), VARIABLES, ids=[f"{n}-{v}" for n, v in VARIABLES])
def test_a_missing_variable_is_an_error_not_an_empty_string(name: str, variable: str) -> None:
    context = {k: v for k, v in SAMPLE_CONTEXTS[name].items() if k != variable}
    with pytest.raises(TemplateError, match=f"'{variable}' is undefined"):
        render(name, context)


def test_what_the_notices_say() -> None:
    sample = SAMPLE_CONTEXTS
    rejection = render("rejection", sample["rejection"])
    assert rejection.subject == "投诉不予受理告知（TS2026050600000018）"
    assert rejection.text.startswith("张三：") and "理由：不属于市场监督管理部门职责范围" in rejection.text
    transfer = render("transfer", sample["transfer"]).text
    assert "已转送有管辖权的临泉县市场监督管理局处理" in transfer and "经营者实际经营地在临泉县" in transfer
    assert "太市监诉转案〔2026〕17号" in render("case_filed", sample["case_filed"]).text
    assert "经营者于 2026 年 5 月 20 日前退还货款 2999 元" in render("agreement", sample["agreement"]).text
    digest = render("digest", sample["digest"])
    assert digest.subject == "今日到期提醒汇总（共 2 项）"
    assert "1. 【即将到期】受理审查（2026年5月13日 到期）\n2. 【即将到期】办结（2026年5月14日 到期）" in digest.text
    assert "经办人：th-amr.liaison" in render("overdue", sample["overdue"]).text
    assert "尚无人认领" in render("overdue", {**sample["overdue"], "assignee": ""}).text


@pytest.mark.parametrize(("outcome", "words"), [
    ("timeout", "因调解期限届满仍未达成调解协议"), ("withdrawn", "因投诉已撤回"), ("refused", "因一方当事人拒绝调解"),
    ("no_agreement", "因双方未能达成调解协议")])
def test_a_termination_names_its_cause_and_every_route_of_article_39(outcome: str, words: str) -> None:
    text = render("termination", {**SAMPLE_CONTEXTS["termination"], "outcome": outcome}).text
    assert f"组织调解，{words}，现终止调解。" in text
    assert "《中华人民共和国消费者权益保护法》第三十九条" in text
    for route in ("与经营者协商和解", "请求消费者协会或者依法成立的其他调解组织调解", "向有关行政部门投诉",
                  "根据与经营者达成的仲裁协议提请仲裁机构仲裁", "向人民法院提起诉讼"):
        assert route in text


def test_html_is_escaped_and_text_is_not() -> None:
    rendered = render("rejection", {**SAMPLE_CONTEXTS["rejection"], "reason": "<script>alert('x')</script> & 其他"})
    assert "<script>alert('x')</script> & 其他" in rendered.text
    assert "<script>" not in rendered.html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; 其他" in rendered.html


def test_an_override_directory_wins_and_is_picked_up_without_a_restart(tmp_path: Path) -> None:
    context = SAMPLE_CONTEXTS["acceptance"]
    assert render("acceptance", context, str(tmp_path)).subject == "投诉受理告知（TS2026050600000018）"
    override = tmp_path / "acceptance.j2"
    override.write_text("{% block subject %}【太和】已受理 {{ tracking_no }}{% endblock %}"
                        "{% block text %}{{ complainant_name }}，您的投诉已受理。{% endblock %}", encoding="utf-8")
    rendered = render("acceptance", context, str(tmp_path))
    assert (rendered.subject, rendered.text) == ("【太和】已受理 TS2026050600000018", "张三，您的投诉已受理。")
    assert render("rejection", SAMPLE_CONTEXTS["rejection"], str(tmp_path)).subject.startswith("投诉不予受理")
    override.unlink()
    assert render("acceptance", context, str(tmp_path)).subject == "投诉受理告知（TS2026050600000018）"


def test_an_override_may_bring_its_own_html_which_is_autoescaped(tmp_path: Path) -> None:
    (tmp_path / "rejection.j2").write_text(
        "{% block subject %}不予受理{% endblock %}{% block text %}{{ reason }}{% endblock %}"
        "{% block html %}<h1>{{ subject }}</h1><em>{{ reason }}</em>{% endblock %}", encoding="utf-8")
    rendered = render("rejection", {**SAMPLE_CONTEXTS["rejection"], "reason": "<b>无</b>"}, str(tmp_path))
    assert rendered.html == "<h1>不予受理</h1><em>&lt;b&gt;无&lt;/b&gt;</em>"
    assert check_templates(str(tmp_path)) == []


def test_a_subject_is_always_one_line(tmp_path: Path) -> None:
    (tmp_path / "acceptance.j2").write_text(
        "{% block subject %}已受理\nBcc: victim@example.cn {{ tracking_no }}{% endblock %}"
        "{% block text %}x{% endblock %}", encoding="utf-8")
    assert render("acceptance", SAMPLE_CONTEXTS["acceptance"], str(tmp_path)).subject == (
        "已受理 Bcc: victim@example.cn TS2026050600000018")


@pytest.mark.parametrize("name", ["nope", "../../etc/passwd", "_layout.html", "Acceptance", ""])
def test_an_unknown_template_is_a_clear_error(name: str) -> None:
    with pytest.raises(UnknownTemplate, match="unknown template; known templates: acceptance, rejection"):
        render(name, {})


def test_check_templates_passes_the_built_ins_and_reports_broken_overrides(tmp_path: Path) -> None:
    assert check_templates(None) == []
    assert check_templates(str(tmp_path)) == []
    (tmp_path / "rejection.j2").write_text(
        "{% block subject %}{{ tracking_no }}{% endblock %}{% block text %}{{ reasons }}{% endblock %}",
        encoding="utf-8")
    (tmp_path / "transfer.j2").write_text("{% block subject %}{{ tracking_no }{% endblock %}", encoding="utf-8")
    (tmp_path / "agreement.j2").write_text("{% block subject %}协议{% endblock %}", encoding="utf-8")
    problems = check_templates(str(tmp_path))
    assert problems[0] == "rejection: uses variables callers do not provide: reasons"
    assert problems[1] == "rejection: 'reasons' is undefined"
    assert problems[2].startswith("transfer: syntax error on line 1")
    assert problems[3] == "agreement: the template has no text block"
    assert len(problems) == 4
