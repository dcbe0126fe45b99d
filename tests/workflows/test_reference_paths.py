"""Every path of the reference workflows, through the service layer, on SQLite and PostgreSQL.

Each path restarts the engine (new objects over the same database) in its middle and finishes.
"""

from __future__ import annotations

import pytest

from tests.workflows.scenario import Scenario

AGREEMENT = {"outcome": "agreement", "summary": "双方达成一致", "agreement_text": "商家退款 3299 元",
             "violation_found": False}
NO_AGREEMENT = {"outcome": "no_agreement", "summary": "商家拒绝", "violation_found": False}
CONSENT = {"complainant_consent": True, "business_consent": True, "consent_how": "电话征求双方意见"}


def finish_close_and_follow_up(s: Scenario, complaint, agency: str = "th-amr") -> None:  # type: ignore[no-untyped-def]
    s.do(agency, "close", {"result": "已办结"}, complaint)
    s.do(agency, "follow_up", {"satisfaction": "satisfied"}, complaint)
    assert s.open_task_names(complaint) == []
    assert s.complaint(complaint.id).status == "closed"
    assert all(i.status == "completed" for i in s.instances(complaint))


def test_accept_self_mediation_agreement_close_follow_up(s: Scenario) -> None:
    c = s.submit()
    review = s.task("th-amr", "review", c)
    assert review.due_at.isoformat() == "2026-11-27T23:59:59+08:00"  # 7 working days from Wed 18th
    s.do("th-amr", "review", {"decision": "accept"}, c)
    s.do("th-amr", "arrange_mediation", {**CONSENT, "mediator": "self"}, c)
    s.restart()
    s.do("th-amr", "mediate", AGREEMENT, c)
    finish_close_and_follow_up(s, c)
    assert s.notices(c) == ["acceptance", "agreement"]


def test_reject(s: Scenario) -> None:
    c = s.submit()
    s.restart()
    result = s.do("th-amr", "review", {"decision": "reject", "reason": "不属于本部门职责范围",
                                         "ground": "not_competent", "violation_found": False}, c)
    assert result.next_tasks == [] and result.instance_status == "completed"
    assert s.complaint(c.id).status == "rejected"  # ended, and more telling than 已办结
    assert s.notices(c) == ["rejection"]


def test_transfer_to_another_regulator(s: Scenario) -> None:
    c = s.submit()
    s.clock.set(s.clock.now().replace(day=20))  # transferred on Friday the 20th
    result = s.do("th-amr", "review", {"decision": "transfer", "reason": "经营地在临泉", "transfer_to": "lq-amr"}, c)
    assert [(t.task_name, t.agency_code) for t in result.next_tasks] == [("review", "lq-amr")]
    assert s.inbox("th-amr", c) == []
    s.restart()
    review = s.task("lq-amr", "review", c)
    assert review.due_at.isoformat() == "2026-12-01T23:59:59+08:00"  # counted from the transfer
    s.do("lq-amr", "review", {"decision": "accept"}, c)
    s.do("lq-amr", "arrange_mediation", {**CONSENT, "mediator": "self"}, c)
    s.do("lq-amr", "mediate", NO_AGREEMENT, c)
    finish_close_and_follow_up(s, c, "lq-amr")
    assert s.notices(c) == ["transfer", "acceptance", "termination"]


def test_entrust_to_the_consumer_association(s: Scenario) -> None:
    c = s.submit()
    s.do("th-amr", "review", {"decision": "accept"}, c)
    s.do("th-amr", "arrange_mediation", {**CONSENT, "mediator": "consumer_association", "mediator_agency": "th-cca"}, c)
    s.restart()
    s.do("th-cca", "association_mediate", AGREEMENT, c)
    finish_close_and_follow_up(s, c)


def test_entrust_to_the_mediation_committee_with_confirmation_tracking(s: Scenario) -> None:
    c = s.submit()
    s.do("th-amr", "review", {"decision": "accept"}, c)
    s.do("th-amr", "arrange_mediation", {**CONSENT, "mediator": "mediation_committee", "mediator_agency": "th-pmc"}, c)
    s.do("th-pmc", "committee_mediate", AGREEMENT, c)
    s.restart()
    tracking = s.task("th-pmc", "confirm_tracking", c)
    assert tracking.due_at.isoformat() == "2026-12-18T23:59:59+08:00"  # 30 calendar days from the agreement
    s.do("th-pmc", "confirm_tracking", {"applied": True, "court": "太和县人民法院", "confirmed": True}, c)
    finish_close_and_follow_up(s, c)


def test_consumer_association_intake_accepts_and_mediates(s: Scenario) -> None:
    c = s.submit(received_by="th-cca")
    review = s.task("th-cca", "association_review", c)
    assert review.due_at.isoformat() == "2026-11-27T23:59:59+08:00"  # 7 working days: national default (Anhui)
    s.do("th-cca", "association_review", {"decision": "accept"}, c)
    s.restart()
    s.do("th-cca", "association_mediate", AGREEMENT, c)
    assert s.open_task_names(c) == []
    assert s.complaint(c.id).status == "closed"


def test_consumer_association_refers_to_the_regulator(s: Scenario) -> None:
    c = s.submit(received_by="th-cca")
    s.do("th-cca", "association_review", {"decision": "refer_to_regulator", "reason": "涉及违法经营"}, c)
    s.restart()
    s.do("th-amr", "review", {"decision": "reject", "reason": "证据不足", "ground": "not_consumer_dispute",
                               "violation_found": False}, c)
    assert s.open_task_names(c) == []
    assert s.complaint(c.id).status == "rejected"


def test_consultations_are_answered_by_the_receiving_agency(s: Scenario) -> None:
    at_regulator = s.submit(kind="consultation")
    at_association = s.submit(received_by="th-cca", kind="consultation")
    s.restart()
    s.do("th-amr", "reply", {"answer": "请保留购物凭证"}, at_regulator)
    s.do("th-cca", "association_reply", {"answer": "可申请消协调解"}, at_association)
    assert s.open_task_names(at_regulator) == [] == s.open_task_names(at_association)


def test_a_report_goes_straight_to_case_conversion(s: Scenario) -> None:
    c = s.submit(kind="report")
    assert s.open_task_names(c) == ["verify_clue"]  # its paths: tests/workflows/test_case_conversion.py


@pytest.mark.parametrize(("data", "field"), [
    ({"decision": "transfer", "reason": "转", "transfer_to": "no-such-amr"}, "data.transfer_to"),
    ({"decision": "transfer", "reason": "转", "transfer_to": "th-cca"}, "data.transfer_to"),  # not a regulator
])
def test_a_transfer_to_an_unknown_or_wrong_agency_is_refused_and_changes_nothing(
        s: Scenario, data: dict, field: str) -> None:
    from engine.errors import InvalidInput

    c = s.submit()
    review = s.task("th-amr", "review", c)
    with pytest.raises(InvalidInput) as error:
        s.do("th-amr", "review", data, c)
    assert [e.field for e in error.value.errors] == [field]
    assert s.task("th-amr", "review", c).id == review.id
    assert s.instances(c)[0].version == 1


def test_mediation_left_alone_is_terminated_by_its_timer_through_the_sweep(s: Scenario) -> None:
    from datetime import timedelta

    from complaintflow.jobs import run_sweep

    c = s.submit(received_at="2026-06-01T09:00:00+08:00")  # Order 121: mediation is 60 calendar days
    s.clock.set(s.clock.now())
    s.do("th-amr", "review", {"decision": "accept"}, c)  # accepted Wed 2026-11-18
    s.do("th-amr", "arrange_mediation", {**CONSENT, "mediator": "self"}, c)
    [timer_fire_at] = s.pending_timers(c)
    assert timer_fire_at.isoformat() == "2027-01-18T23:59:59+08:00"  # 60 days → Sun 17 Jan → Mon 18 Jan
    s.clock.set(timer_fire_at - timedelta(hours=1))
    assert run_sweep(s.product).timers.timers_fired == 0
    s.restart()
    s.clock.set(timer_fire_at + timedelta(minutes=1))
    assert run_sweep(s.product).timers.timers_fired == 1
    assert s.open_task_names(c) == ["close"]  # mediation ended with outcome "timeout"
    assert s.notices(c)[-1] == "termination"
    assert run_sweep(s.product).timers.timers_fired == 0  # never twice
