"""Rejection grounds, consent to mediation, the mediation time limit as a task deadline, and the
complaint's status along the reference paths: through the service layer, on SQLite and PostgreSQL,
each path restarting the engine (new objects over the same database) between steps.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from agencies.labels import status_label
from agencies.tables import Complaint
from engine.db.tables import DeadlineStep, OpenTask
from notifications.tables import OutboxMessage
from tests.workflows.scenario import Scenario
from tests.workflows.test_reference_contract import GROUNDS

CONSENT = {"complainant_consent": True, "business_consent": True, "consent_how": "电话征求双方意见"}
AGREEMENT = {"outcome": "agreement", "summary": "双方达成一致", "agreement_text": "商家退款 3299 元",
             "violation_found": False}
NO_AGREEMENT = {"outcome": "no_agreement", "summary": "商家拒绝", "violation_found": False}


def reject(ground: str, **extra: Any) -> dict[str, Any]:
    return {"decision": "reject", "reason": "经审查，不符合受理条件", "ground": ground, "violation_found": False,
            **extra}


def status(s: Scenario, c: Complaint) -> str:
    return s.complaint(c.id).status


def notice(s: Scenario, c: Complaint, template: str) -> OutboxMessage:
    """The complainant's notice of this template (one row per channel: the e-mail one)."""
    with s.product.uow() as uow:
        rows = list(uow.session.scalars(select(OutboxMessage).where(
            OutboxMessage.complaint_id == c.id, OutboxMessage.template == template).order_by(OutboxMessage.id)))
    assert rows, f"no {template} notice"
    return rows[0]


def open_task(s: Scenario, c: Complaint, name: str) -> OpenTask:
    with s.product.uow() as uow:
        return uow.session.scalars(select(OpenTask).where(
            OpenTask.complaint_id == c.id, OpenTask.task_name == name)).one()


def steps_of(s: Scenario, task: OpenTask) -> dict[str, datetime]:
    with s.product.uow() as uow:
        return {row.step: row.fire_at for row in uow.session.scalars(
            select(DeadlineStep).where(DeadlineStep.task_id == task.id))}


def close_and_follow_up(s: Scenario, c: Complaint) -> None:
    s.do("th-amr", "close", {"result": "已办结"}, c)
    s.do("th-amr", "follow_up", {"satisfaction": "satisfied"}, c)
    assert s.open_task_names(c) == [] and status(s, c) == "closed"


# ------------------------------------------------------------------------------ rejection grounds
@pytest.mark.parametrize("ground", list(GROUNDS))
def test_a_rejection_names_its_legal_ground_in_the_notice(s: Scenario, ground: str) -> None:
    c = s.submit()
    assert status(s, c) == "pending_acceptance"
    s.restart()
    result = s.do("th-amr", "review", reject(ground), c)
    assert result.next_tasks == [] and result.instance_status == "completed"
    sent = notice(s, c, "rejection")
    assert sent.context["ground_label"] == GROUNDS[ground]
    assert f"属于“{GROUNDS[ground]}”的情形" in sent.body_text and "经审查，不符合受理条件" in sent.body_text
    # a final outcome says more than 已办结: the status stays 不予受理 once the process has ended
    assert status(s, c) == "rejected" and s.cases(c) == [] and len(s.instances(c)) == 1


def test_a_rejection_without_a_ground_is_refused(s: Scenario) -> None:
    from engine.errors import InvalidInput

    c = s.submit()
    for data in ({"decision": "reject", "reason": "不符合受理条件", "violation_found": False},
                 reject("too_late")):
        with pytest.raises(InvalidInput) as error:
            s.do("th-amr", "review", data, c)
        assert "data.ground" in {e.field for e in error.value.errors} or error.value.errors
    assert s.open_task_names(c) == ["review"] and status(s, c) == "pending_acceptance"


def test_a_rejected_complaint_still_sends_its_violation_clue(s: Scenario) -> None:
    c = s.submit()
    s.do("th-amr", "review", reject("not_consumer_dispute", violation_found=True,
                                    violation_description="经营者无照经营"), c)
    s.restart()
    assert s.open_task_names(c) == ["verify_clue"]  # the case process, at the competent regulator
    assert s.task("th-amr", "verify_clue", c).agency_code == "th-amr"
    assert status(s, c) == "rejected" and s.notices(c) == ["rejection"]
    [_complaint, case] = s.instances(c)
    assert case.status == "running"  # the case process runs on; the complaint's own has ended


def test_the_consumer_association_rejects_on_a_ground_too(s: Scenario) -> None:
    c = s.submit(received_by="th-cca")
    assert status(s, c) == "pending_acceptance"
    s.restart()
    s.do("th-cca", "association_review", {"decision": "reject", "reason": "购买于四年前",
                                          "ground": "over_three_years"}, c)
    sent = notice(s, c, "rejection")
    assert sent.context["ground_label"] == "超过三年" and "属于“超过三年”的情形" in sent.body_text
    assert s.open_task_names(c) == [] and status(s, c) == "rejected"


# ------------------------------------------------------------------------- consent to mediation
@pytest.mark.parametrize(("complainant", "business", "words"), [
    (False, True, "您不同意调解"),
    (True, False, "被投诉经营者不同意调解"),
    (False, False, "您与被投诉经营者均不同意调解"),
], ids=["complainant-refuses", "business-refuses", "both-refuse"])
def test_without_both_consents_there_is_no_mediation(s: Scenario, complainant: bool, business: bool,
                                                     words: str) -> None:
    c = s.submit()
    s.do("th-amr", "review", {"decision": "accept"}, c)
    assert status(s, c) == "accepted"
    s.restart()
    s.clock.set(s.clock.now() + timedelta(days=1))  # Thursday the 19th
    s.do("th-amr", "arrange_mediation", {"complainant_consent": complainant, "business_consent": business,
                                         "consent_how": "电话征求意见并记录"}, c)
    assert s.open_task_names(c) == ["close"] and s.pending_timers(c) == []
    assert status(s, c) == "not_mediated" and status_label("not_mediated") == "未调解"
    close = s.task("th-amr", "close", c)
    assert close.due_at is not None  # 7 working days from the 19th:
    assert close.due_at.isoformat() == "2026-11-30T23:59:59+08:00"
    sent = notice(s, c, "not_mediated")
    assert words in sent.body_text and "可以依法通过仲裁、诉讼等途径解决" in sent.body_text
    assert sent.subject == f"投诉未调解告知（{c.tracking_no}）"
    assert s.notices(c) == ["acceptance", "not_mediated"]
    s.restart()
    close_and_follow_up(s, c)


def test_both_consent_so_mediation_starts(s: Scenario) -> None:
    c = s.submit()
    s.do("th-amr", "review", {"decision": "accept"}, c)
    s.restart()
    s.do("th-amr", "arrange_mediation", {**CONSENT, "mediator": "self"}, c)
    assert s.open_task_names(c) == ["mediate"] and status(s, c) == "mediating"
    s.restart()
    s.do("th-amr", "mediate", AGREEMENT, c)
    assert status(s, c) == "agreement" and s.open_task_names(c) == ["close"]
    close_and_follow_up(s, c)
    assert s.notices(c) == ["acceptance", "agreement"]


# --------------------------------------------------- the mediation time limit as the task's deadline
def test_the_mediate_task_is_due_when_its_timer_fires(s: Scenario) -> None:
    c = s.submit()
    s.do("th-amr", "review", {"decision": "accept"}, c)  # accepted Wed 2026-11-18 (Order 121: 60 days)
    s.do("th-amr", "arrange_mediation", {**CONSENT, "mediator": "self"}, c)
    s.restart()
    mediate = s.task("th-amr", "mediate", c)
    [fire_at] = s.pending_timers(c)
    assert mediate.due_at == fire_at and mediate.due_at.isoformat() == "2027-01-18T23:59:59+08:00"
    assert mediate.deadline_rule == "mediation"
    steps = steps_of(s, mediate)
    assert set(steps) == {"reminder", "overdue", "escalation"}
    assert steps["reminder"] < fire_at < steps["overdue"] < steps["escalation"]  # reminded before the end


@pytest.mark.parametrize(("mediator", "agency", "task"), [
    ("consumer_association", "th-cca", "association_mediate"),
    ("mediation_committee", "th-pmc", "committee_mediate"),
])
def test_an_entrusted_mediation_is_due_when_its_timer_fires(s: Scenario, mediator: str, agency: str,
                                                            task: str) -> None:
    c = s.submit()
    s.do("th-amr", "review", {"decision": "accept"}, c)
    s.do("th-amr", "arrange_mediation", {**CONSENT, "mediator": mediator, "mediator_agency": agency}, c)
    assert status(s, c) == "mediating"
    s.restart()
    mediating = s.task(agency, task, c)
    [fire_at] = s.pending_timers(c)
    assert mediating.due_at == fire_at and mediating.due_at.isoformat() == "2027-01-18T23:59:59+08:00"
    s.do(agency, task, NO_AGREEMENT, c)
    assert status(s, c) == "terminated" and "close" in s.open_task_names(c)
    close_and_follow_up(s, c)


def test_a_mediation_ended_by_its_timer_is_terminated(s: Scenario) -> None:
    from complaintflow.jobs import run_sweep

    c = s.submit()
    s.do("th-amr", "review", {"decision": "accept"}, c)
    s.do("th-amr", "arrange_mediation", {**CONSENT, "mediator": "self"}, c)
    due_at = s.task("th-amr", "mediate", c).due_at
    assert due_at is not None
    s.restart()
    s.clock.set(due_at + timedelta(minutes=1))
    assert run_sweep(s.product).timers.timers_fired == 1
    assert s.open_task_names(c) == ["close"] and status(s, c) == "terminated"
    assert s.notices(c)[-1] == "termination"


# ----------------------------------------------------------------------------- statuses on the paths
def test_statuses_through_a_transfer(s: Scenario) -> None:
    c = s.submit()
    assert status(s, c) == "pending_acceptance"
    s.do("th-amr", "review", {"decision": "transfer", "reason": "经营地在临泉", "transfer_to": "lq-amr"}, c)
    assert status(s, c) == "transferred"
    s.restart()
    s.do("lq-amr", "review", {"decision": "accept"}, c)
    assert status(s, c) == "accepted"
    s.do("lq-amr", "arrange_mediation", {**CONSENT, "mediator": "self"}, c)
    assert status(s, c) == "mediating"


def test_statuses_at_the_consumer_association(s: Scenario) -> None:
    c = s.submit(received_by="th-cca")
    assert status(s, c) == "pending_acceptance"
    s.restart()
    s.do("th-cca", "association_review", {"decision": "accept"}, c)
    assert status(s, c) == "mediating"
    s.do("th-cca", "association_mediate", AGREEMENT, c)
    assert status(s, c) == "closed"  # the association's own complaint ends with its mediation


def test_statuses_through_a_referral_to_the_regulator(s: Scenario) -> None:
    c = s.submit(received_by="th-cca")
    s.do("th-cca", "association_review", {"decision": "refer_to_regulator", "reason": "涉及违法经营"}, c)
    assert s.open_task_names(c) == ["review"] and status(s, c) == "pending_acceptance"


def test_a_committee_agreement_stays_agreement_while_confirmation_is_tracked(s: Scenario) -> None:
    c = s.submit()
    s.do("th-amr", "review", {"decision": "accept"}, c)
    s.do("th-amr", "arrange_mediation", {**CONSENT, "mediator": "mediation_committee", "mediator_agency": "th-pmc"},
         c)
    s.do("th-pmc", "committee_mediate", AGREEMENT, c)
    assert s.open_task_names(c) == ["close", "confirm_tracking"] and status(s, c) == "agreement"
    s.restart()
    s.do("th-pmc", "confirm_tracking", {"applied": False}, c)
    assert status(s, c) == "agreement"
    close_and_follow_up(s, c)


def test_a_consultation_is_in_progress_until_answered(s: Scenario) -> None:
    c = s.submit(kind="consultation")
    assert status(s, c) == "in_progress"
    s.do("th-amr", "reply", {"answer": "请保留购物凭证"}, c)
    assert status(s, c) == "closed"
