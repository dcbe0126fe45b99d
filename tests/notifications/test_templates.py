"""Every template renders in Chinese with its documented context; nothing silently renders empty."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from notifications.errors import TemplateError, UnknownTemplate
from notifications.rendering import (
    BUILT_IN,
    TEMPLATE_NAMES,
    check_templates,
    cn_date,
    documented_variables,
    optional_variables,
    render,
    used_variables,
)
from notifications.samples import SAMPLE_CONTEXTS

CHINESE = re.compile(r"[\u4e00-\u9fff]")
EVENTS = {"acceptance", "rejection", "transfer", "termination", "agreement", "case_filed", "case_not_filed",
          "association_acceptance", "referral", "reminder", "overdue", "escalation", "not_mediated",
          "odr_offer", "settled", "odr_ended", "business_notice",
          "designation", "designated"}
VARIABLES = [(name, variable) for name in TEMPLATE_NAMES
             for variable in sorted(documented_variables(name) - optional_variables(name))]
OPTIONAL = [(name, variable) for name in TEMPLATE_NAMES for variable in sorted(optional_variables(name))]
ISO_DATE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}")
COMPLAINANT_NOTICES = ["acceptance", "rejection", "transfer", "termination", "agreement", "case_filed",
                       "case_not_filed", "association_acceptance", "referral"]
STAFF_NOTICES = ["reminder", "overdue", "escalation", "digest"]


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


@pytest.mark.parametrize(("name", "variable"), OPTIONAL, ids=[f"{n}-{v}" for n, v in OPTIONAL])
def test_an_optional_variable_may_be_left_out(name: str, variable: str) -> None:
    context = {k: v for k, v in SAMPLE_CONTEXTS[name].items() if k != variable}
    assert CHINESE.search(render(name, context).text)


@pytest.mark.parametrize("name", COMPLAINANT_NOTICES)
def test_a_notice_to_the_complainant_is_signed_by_the_agency_with_the_date_in_chinese(name: str) -> None:
    context = SAMPLE_CONTEXTS[name]
    signer = context.get("from_agency_name", context.get("agency_name"))
    text = render(name, context).text
    assert text.endswith(f"\n{signer}\n2026年5月6日"), text
    assert "我们" not in text and not ISO_DATE.search(text)


@pytest.mark.parametrize("name", STAFF_NOTICES)
def test_a_staff_notice_is_signed_by_the_platform(name: str) -> None:
    text = render(name, SAMPLE_CONTEXTS[name]).text
    assert text.endswith("\n消费投诉协同办理平台\n2026年5月6日") and not ISO_DATE.search(text)


@pytest.mark.parametrize("name", ["reminder", "overdue", "escalation"])
@pytest.mark.parametrize("due", ["2026-11-27", "2026年11月27日"])
def test_a_deadline_reads_as_a_chinese_date_whatever_form_it_is_given_in(name: str, due: str) -> None:
    rendered = render(name, {**SAMPLE_CONTEXTS[name], "due_date": due, "notice_date": "2026-11-25"})
    assert "2026年11月27日24时到期" in rendered.text and "2026年11月25日" in rendered.text
    assert not ISO_DATE.search(rendered.subject + rendered.text + rendered.html) and "24 时" not in rendered.text


def test_dates_are_written_the_chinese_way() -> None:
    assert cn_date(date(2026, 11, 27)) == cn_date("2026-11-27") == cn_date("2026年11月27日") == "2026年11月27日"
    assert cn_date(datetime(2026, 1, 5, 9, 0)) == "2026年1月5日"
    # an instant counts in Asia/Shanghai: 17:00 UTC on the 26th is already the 27th in China
    assert cn_date(datetime(2026, 11, 26, 17, 0, tzinfo=UTC)) == "2026年11月27日"
    assert cn_date("2026-11-26T17:00:00+00:00") == "2026年11月27日"
    assert cn_date(datetime(2026, 11, 27, 23, 59, tzinfo=timezone(timedelta(hours=8)))) == "2026年11月27日"
    with pytest.raises(ValueError, match="not a date"):
        cn_date("下周五")


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
    assert "1. 【即将到期】受理审查（2026年5月13日到期）\n2. 【即将到期】办结（2026年5月14日到期）" in digest.text
    assert "经办人：th-amr.liaison" in render("overdue", sample["overdue"]).text
    assert "尚无人认领" in render("overdue", {**sample["overdue"], "assignee": ""}).text


def test_acceptance_promises_handling_and_mediation_only_with_both_parties_consent() -> None:
    text = render("acceptance", SAMPLE_CONTEXTS["acceptance"]).text
    assert ("经太和县市场监督管理局审查，已依法受理。太和县市场监督管理局将依法处理；"
            "经您和被投诉经营者双方同意的，将组织调解。") in text
    assert "已依法受理，将组织调解" not in text


def test_a_consumer_association_speaks_of_itself_by_name() -> None:
    text = render("association_acceptance", SAMPLE_CONTEXTS["association_acceptance"]).text
    assert "已由太和县消费者协会受理。经您和被投诉经营者双方同意的，太和县消费者协会将依法组织调解。" in text
    assert "我们" not in text


@pytest.mark.parametrize(("kind", "confirmable"), [
    ("mediation_committee", True), ("market_regulator", False), ("consumer_association", False)])
def test_only_a_peoples_mediation_agreement_mentions_judicial_confirmation(kind: str, confirmable: bool) -> None:
    text = render("agreement", {**SAMPLE_CONTEXTS["agreement"], "agency_kind": kind}).text
    sentence = ("本协议经人民调解委员会调解达成，您与被投诉经营者认为有必要的，"
                "可以自调解协议生效之日起三十日内共同向人民法院申请司法确认。")
    assert (sentence in text) is confirmable
    assert ("司法确认" in text) is confirmable
    # addressed to the complainant who reads it, not to "both parties"
    assert "请您按照协议约定办理相关事项；被投诉经营者不履行协议的，您可以依法通过仲裁、诉讼等途径解决。" in text
    assert "请双方" not in text


def test_a_rejection_gives_its_ground_and_the_ways_to_settle_the_dispute() -> None:
    context = {**SAMPLE_CONTEXTS["rejection"], "ground_label": "超过三年", "reason": "消费发生于2021年"}
    text = render("rejection", context).text
    assert "经太和县市场监督管理局审查，属于“超过三年”的情形，决定不予受理。\n理由：消费发生于2021年" in text
    assert ("您与被投诉经营者之间的消费争议，可以依照《中华人民共和国消费者权益保护法》第三十九条的规定，"
            "通过与经营者协商和解、请求调解组织调解、提请仲裁或者向人民法院提起诉讼等途径解决。") in text
    assert "如有异议" not in text


@pytest.mark.parametrize("ground_label", [None, ""])
def test_a_rejection_without_a_ground_states_the_decision_and_reason(ground_label: str | None) -> None:
    context = {k: v for k, v in SAMPLE_CONTEXTS["rejection"].items() if k != "ground_label"}
    if ground_label is not None:
        context["ground_label"] = ground_label
    text = render("rejection", context).text
    assert "经太和县市场监督管理局审查，决定不予受理。" in text and "情形" not in text


@pytest.mark.parametrize(("outcome", "words"), [
    ("timeout", "因调解期限届满仍未达成调解协议"), ("withdrawn", "因您已撤回投诉"), ("refused", "因一方当事人拒绝调解"),
    ("no_agreement", "因双方未能达成调解协议")])
def test_a_termination_names_its_cause_and_advises_by_outcome(outcome: str, words: str) -> None:
    text = render("termination", {**SAMPLE_CONTEXTS["termination"], "outcome": outcome}).text
    assert f"组织调解，{words}，现终止调解。" in text
    advice = "您与被投诉经营者之间的消费争议，可以依法通过仲裁、诉讼等途径解决。"
    assert (advice in text) is (outcome != "withdrawn")
    assert "向有关行政部门投诉" not in text
    if outcome == "withdrawn":  # the complainant withdrew: nothing more to advise
        assert text.endswith("情况说明：经营者未在调解期限内提出解决方案\n太和县市场监督管理局\n2026年5月6日")


@pytest.mark.parametrize("name", ["case_filed", "case_not_filed"])
@pytest.mark.parametrize(("source", "opening"), [
    ("report", "张三：\n您举报的涉嫌违法线索（编号：TS2026050600000018）经太和县市场监督管理局核查，"),
    ("complaint", "张三：\n您在投诉（编号：TS2026050600000018）中反映的涉嫌违法问题经太和县市场监督管理局核查，")])
def test_a_case_notice_speaks_to_a_reporter_or_a_complainant(name: str, source: str, opening: str) -> None:
    text = render(name, {**SAMPLE_CONTEXTS[name], "source": source}).text
    assert text.startswith(opening)
    assert ("您反映的违法线索" not in text) and (("举报" in text) is (source == "report"))


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
