"""Complaint-to-case conversion (诉转案) through the service layer, on SQLite and PostgreSQL.

The clue period runs from the report's receipt or from when mediation found the violation; the
head (负责人, the supervisor lane) decides filing and approves each extension; only a real-name
complainant or reporter is told the filing decision. Each path restarts the engine in its middle.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from agencies.tables import Complaint
from engine.errors import Forbidden
from tests.workflows.scenario import Scenario

CASE_NO = re.compile(r"^太市监诉转案〔2026〕\d+号$")
VIOLATION = {"outcome": "agreement", "summary": "达成一致", "agreement_text": "退款", "violation_found": True,
             "violation_description": "销售不合格空调"}
ANONYMOUS = {"name": "匿名举报人", "phone": "13812345678"}  # no ID number: not a real-name reporter
SELF_MEDIATION = {"complainant_consent": True, "business_consent": True, "consent_how": "电话征求双方意见",
                  "mediator": "self"}
FILE = {"decision": "file", "reason": "证据充分"}
NO_FILE = {"decision": "no_file", "reason": "不构成违法"}


def file_report(s: Scenario, **overrides: Any) -> Complaint:
    """A report whose clue enforcement verified and the head decided to file."""
    c = s.submit(kind="report", **overrides)
    s.do("th-amr", "verify_clue", FILE, c)
    s.do("th-amr", "decide_filing", FILE, c, role="supervisor")
    return c


def due(s: Scenario, name: str, c: Complaint) -> str:
    due_at = s.task("th-amr", name, c).due_at
    assert due_at is not None, name
    return due_at.isoformat()


# ------------------------------------------------------------------------------ clue period
def test_a_reports_clue_period_counts_from_its_receipt(s: Scenario) -> None:
    c = s.submit(kind="report", received_at="2026-11-09T10:00:00+08:00")  # a Monday, registered on the 18th
    assert due(s, "verify_clue", c) == "2026-11-30T23:59:59+08:00"  # 15 working days from receipt
    s.restart()
    s.do("th-amr", "verify_clue", FILE, c)
    assert due(s, "decide_filing", c) == "2026-11-30T23:59:59+08:00"  # the filing decision is due within it


def test_a_complaints_clue_period_counts_from_when_the_violation_was_found(s: Scenario) -> None:
    c = s.submit()  # received Wednesday 2026-11-18
    s.do("th-amr", "review", {"decision": "accept"}, c)
    s.do("th-amr", "arrange_mediation", SELF_MEDIATION, c)
    s.clock.set(s.clock.now().replace(day=20))  # mediation finds the violation on Friday the 20th
    s.restart()
    s.do("th-amr", "mediate", VIOLATION, c)
    assert due(s, "verify_clue", c) == "2026-12-11T23:59:59+08:00"  # 15 working days from the 20th


# ------------------------------------------------------------------------------ filing
def test_enforcement_verifies_and_the_head_decides_filing(s: Scenario) -> None:
    c = s.submit(kind="report")
    result = s.do("th-amr", "verify_clue", {"decision": "file", "reason": "证据充分，建议立案"}, c)
    assert [(t.task_name, t.lane) for t in result.next_tasks] == [("decide_filing", "supervisor")]
    assert s.cases(c) == []  # a proposal files nothing
    with pytest.raises(Forbidden):  # th-amr.liaison holds the enforcement role, not the head's
        s.do("th-amr", "decide_filing", FILE, c)
    assert s.open_task_names(c) == ["decide_filing"] and s.cases(c) == []
    s.restart()
    s.do("th-amr", "decide_filing", FILE, c, role="supervisor")
    [case] = s.cases(c)
    assert CASE_NO.match(case.case_no) and case.status == "filed"
    assert due(s, "investigate", c) == "2027-02-16T23:59:59+08:00"  # 90 calendar days from filing
    s.do("th-amr", "investigate", {"decision": "penalty", "summary": "罚款"}, c)
    [case] = s.cases(c)
    assert (case.status, case.decision) == ("decided", "penalty")
    assert s.open_task_names(c) == []


def test_the_head_may_refuse_a_proposed_filing(s: Scenario) -> None:
    c = s.submit(kind="report")
    s.do("th-amr", "verify_clue", FILE, c)
    s.restart()
    s.do("th-amr", "decide_filing", {"decision": "no_file", "reason": "证据不足以立案"}, c, role="supervisor")
    assert s.cases(c) == [] and s.open_task_names(c) == []
    assert s.notices(c) == ["case_not_filed"]


def test_a_violation_found_in_mediation_becomes_a_case(s: Scenario) -> None:
    c = s.submit()
    s.do("th-amr", "review", {"decision": "accept"}, c)
    s.do("th-amr", "arrange_mediation", SELF_MEDIATION, c)
    result = s.do("th-amr", "mediate", VIOLATION, c)
    assert sorted(t.task_name for t in result.next_tasks) == ["close", "verify_clue"]
    s.restart()
    s.do("th-amr", "verify_clue", {"decision": "file", "reason": "立案查处"}, c)
    s.do("th-amr", "decide_filing", {"decision": "file", "reason": "同意立案"}, c, role="supervisor")
    [case] = s.cases(c)
    assert CASE_NO.match(case.case_no)
    s.do("th-amr", "investigate", {"decision": "no_penalty", "summary": "情节轻微"}, c)
    s.do("th-amr", "close", {"result": "已办结"}, c)
    s.do("th-amr", "follow_up", {"satisfaction": "satisfied"}, c)
    assert s.open_task_names(c) == []
    assert [i.status for i in s.instances(c)] == ["completed", "completed"]
    assert "case_filed" in s.notices(c)


# ------------------------------------------------------------------------------ notices
@pytest.mark.parametrize(("decision", "notice"), [(FILE, "case_filed"), (NO_FILE, "case_not_filed")],
                         ids=["filed", "not_filed"])
def test_only_a_real_name_reporter_is_told_the_filing_decision(s: Scenario, decision: dict[str, str],
                                                               notice: str) -> None:
    real_name = s.submit(kind="report")
    anonymous = s.submit(kind="report", complainant=ANONYMOUS)
    for c in (real_name, anonymous):
        s.do("th-amr", "verify_clue", FILE, c)
    s.restart()
    for c in (real_name, anonymous):
        s.do("th-amr", "decide_filing", decision, c, role="supervisor")
    assert s.notices(real_name) == [notice]
    assert s.notices(anonymous) == []
    assert len(s.cases(anonymous)) == (1 if decision is FILE else 0)  # the case itself does not depend on it


# ------------------------------------------------------------------------------ extensions
@pytest.mark.parametrize("approved", [True, False], ids=["approved", "refused"])
def test_extension_of_clue_verification(s: Scenario, approved: bool) -> None:
    c = s.submit(kind="report")
    assert due(s, "verify_clue", c) == "2026-12-09T23:59:59+08:00"  # 15 working days
    s.do("th-amr", "verify_clue", {"decision": "extend", "reason": "需要调取外地证据"}, c)
    with pytest.raises(Forbidden):
        s.do("th-amr", "approve_extension", {"approved": True}, c)  # enforcement cannot approve its own
    s.restart()
    s.do("th-amr", "approve_extension", {"approved": approved}, c, role="supervisor")
    expected = "2026-12-30T23:59:59+08:00" if approved else "2026-12-09T23:59:59+08:00"
    assert due(s, "verify_clue", c) == expected  # moved once by 15 working days, or not at all
    s.do("th-amr", "verify_clue", {"decision": "extend", "reason": "仍需时间"}, c)
    assert s.open_task_names(c) == ["verify_clue"]  # once only: a second request is not put to the head
    assert due(s, "verify_clue", c) == expected
    s.do("th-amr", "verify_clue", NO_FILE, c)
    assert due(s, "decide_filing", c) == expected  # the head decides within the same (extended) period
    s.do("th-amr", "decide_filing", NO_FILE, c, role="supervisor")
    assert s.open_task_names(c) == []


@pytest.mark.parametrize("approved", [True, False], ids=["approved", "refused"])
def test_extension_of_the_case_decision_period(s: Scenario, approved: bool) -> None:
    c = file_report(s)  # filed Wednesday 2026-11-18
    assert due(s, "investigate", c) == "2027-02-16T23:59:59+08:00"  # 90 calendar days
    result = s.do("th-amr", "investigate", {"decision": "extend", "reason": "案情复杂，需补充鉴定"}, c)
    assert [(t.task_name, t.lane) for t in result.next_tasks] == [("approve_case_extension", "supervisor")]
    with pytest.raises(Forbidden):
        s.do("th-amr", "approve_case_extension", {"approved": True}, c)  # enforcement cannot approve it
    s.restart()
    s.do("th-amr", "approve_case_extension", {"approved": approved}, c, role="supervisor")
    expected = "2027-03-18T23:59:59+08:00" if approved else "2027-02-16T23:59:59+08:00"
    assert due(s, "investigate", c) == expected  # 30 calendar days more, counted from the original last day
    s.do("th-amr", "investigate", {"decision": "extend", "reason": "仍需时间"}, c)
    assert s.open_task_names(c) == ["investigate"]  # once only: a further one is not the head's alone
    assert due(s, "investigate", c) == expected
    s.do("th-amr", "investigate", {"decision": "transfer", "summary": "涉嫌犯罪，移送公安机关"}, c)
    [case] = s.cases(c)
    assert (case.status, case.decision) == ("decided", "transfer")
    assert s.open_task_names(c) == []


def test_a_case_extension_needs_a_reason_and_a_decision_needs_a_summary(s: Scenario) -> None:
    from engine.errors import InvalidInput

    c = file_report(s)
    for data, field in (({"decision": "extend", "summary": "调查中"}, "data.reason"),
                        ({"decision": "penalty", "reason": "罚款"}, "data.summary")):
        with pytest.raises(InvalidInput) as error:
            s.do("th-amr", "investigate", data, c)
        assert field in [e.field for e in error.value.errors]
    assert s.open_task_names(c) == ["investigate"]
