"""Online dispute resolution first (在线纠纷解决): a complaint against an enrolled business reaches the
business before any agency; its settlement offer is answered by the complainant; settled, declined,
disputed and timed-out paths, each with the engine restarted between steps, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from agencies.businesses import party_code
from agencies.odr import pending_offer
from agencies.tables import Business, Complaint, User
from complaintflow.jobs import run_sweep
from complaintflow.services.odr import answer_offer
from engine.clock import SHANGHAI
from engine.errors import Conflict, Forbidden, NotFound
from notifications.tables import OutboxMessage
from tests.workflows.scenario import BUSINESS_USER, ODR_BUSINESS, Scenario

OFFER = {"response": "settle", "offer": "全额退款 3299 元，三个工作日内到账",
         "explanation": "经检测压缩机故障，同意退货"}
DISPUTE = {"response": "dispute", "explanation": "空调已超过三包期，不同意退款"}
ODR_ENDS = datetime(2026, 12, 2, 23, 59, 59, tzinfo=SHANGHAI)  # 10 working days from Wed 18 Nov


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def submit_odr(s: Scenario, received_by: str | None = None) -> Complaint:
    """A complaint against the demo's enrolled business (from the public form by default)."""
    return s.submit(received_by=received_by, business=ODR_BUSINESS)


def business_code(s: Scenario) -> str:
    with s.product.uow() as uow:
        business = uow.session.scalars(select(Business).where(Business.uscc == ODR_BUSINESS["uscc"])).one()
        return party_code(business.id)


def answer(s: Scenario, c: Complaint, accept: bool, code: str | None = None) -> Complaint:
    return answer_offer(s.product, c.tracking_no, code or s.codes[c.id], accept)


def sent(s: Scenario, c: Complaint, template: str) -> list[OutboxMessage]:
    with s.product.uow() as uow:
        return list(uow.session.scalars(select(OutboxMessage).where(
            OutboxMessage.complaint_id == c.id, OutboxMessage.template == template).order_by(OutboxMessage.id)))


def business_user_id(s: Scenario) -> int:
    with s.product.uow() as uow:
        return uow.session.scalars(select(User.id).where(User.username == BUSINESS_USER)).one()


def events_told_to_the_business(s: Scenario, c: Complaint) -> list[str]:
    """The business_notice events its user got, in order (in-app)."""
    user = business_user_id(s)
    return [row.context["event"] for row in sent(s, c, "business_notice")
            if row.channel == "in_app" and row.user_id == user]


def test_a_complaint_against_an_enrolled_business_reaches_the_business_first(s: Scenario) -> None:
    c = submit_odr(s)
    code = business_code(s)
    [task] = s.inbox(code, c)
    assert (task.task_name, task.lane, task.deadline_rule) == ("business_respond", "business", "odr_negotiation")
    assert task.due_at == ODR_ENDS
    assert s.inbox("th-amr", c) == []  # no agency works it while the business may settle it
    assert s.complaint(c.id).status == "negotiating"
    assert s.pending_timers(c) == [ODR_ENDS]
    assert events_told_to_the_business(s, c) == ["new"]
    [new] = [r for r in sent(s, c, "business_notice") if r.channel == "in_app"]
    assert "2026年12月2日前登录系统答复" in new.body_text and ODR_BUSINESS["name"] in new.body_text


def test_any_other_business_goes_straight_to_the_regulator(s: Scenario) -> None:
    c = s.submit(received_by=None)  # 太和县某某电器商行: new, so not enrolled
    assert s.open_task_names(c) == ["review"] and s.task("th-amr", "review", c).agency_code == "th-amr"
    assert s.complaint(c.id).status == "pending_acceptance"


def test_the_complainant_accepts_the_offer_and_the_complaint_is_settled(s: Scenario) -> None:
    c = submit_odr(s)
    s.restart()
    s.clock.set(at("2026-11-19T10:00:00"))
    s.business_do("business_respond", OFFER, c)
    offer = sent(s, c, "odr_offer")[0]
    assert OFFER["offer"] in offer.body_text and "2026年12月2日前" in offer.body_text
    with s.product.uow() as uow:
        pending = pending_offer(uow.session, s.complaint(c.id))
    assert pending is not None and pending.offer == OFFER["offer"] and pending.answer_by == ODR_ENDS
    assert s.complaint(c.id).status == "negotiating"
    s.restart()
    s.clock.set(at("2026-11-20T09:00:00"))
    settled = answer(s, c, accept=True)
    assert settled.status == "settled"
    assert s.open_task_names(c) == [] and s.pending_timers(c) == []
    assert [i.status for i in s.instances(c)] == ["completed"]
    assert "您已接受经营者提出的和解方案" in sent(s, c, "settled")[0].body_text
    assert events_told_to_the_business(s, c) == ["new", "settled"]
    assert "complaint.offer_answered" in s.audit_actions(c)
    with pytest.raises(Conflict):  # answered once: nothing awaits an answer any more
        answer(s, c, accept=False)


def test_a_declined_offer_goes_to_the_regulator_whose_period_starts_then(s: Scenario) -> None:
    c = submit_odr(s)
    s.clock.set(at("2026-11-19T10:00:00"))
    s.business_do("business_respond", OFFER, c)
    s.restart()
    s.clock.set(at("2026-11-20T10:00:00"))  # Friday
    assert answer(s, c, accept=False).status == "pending_acceptance"
    review = s.task("th-amr", "review", c)
    assert review.due_at == at("2026-12-01T23:59:59")  # 7 working days from the 20th, not from receipt
    assert sent(s, c, "odr_ended")[0].context["odr_outcome"] == "declined"
    assert events_told_to_the_business(s, c) == ["new", "odr_ended"]
    s.restart()
    s.do("th-amr", "review", {"decision": "accept"}, c)  # and on as any complaint
    assert s.open_task_names(c) == ["arrange_mediation"] and s.complaint(c.id).status == "accepted"
    assert events_told_to_the_business(s, c) == ["new", "odr_ended", "accepted"]


def test_a_disputed_complaint_goes_to_the_regulator_at_once(s: Scenario) -> None:
    c = submit_odr(s)
    s.restart()
    s.clock.set(at("2026-11-23T15:00:00"))  # Monday
    s.business_do("business_respond", DISPUTE, c)
    assert s.open_task_names(c) == ["review"]
    assert s.task("th-amr", "review", c).due_at == at("2026-12-02T23:59:59")
    assert s.complaint(c.id).status == "pending_acceptance" and s.pending_timers(c) == []
    ended = sent(s, c, "odr_ended")[0]
    assert ended.context["odr_outcome"] == "disputed" and "不同意您的投诉请求" in ended.body_text
    with pytest.raises(Conflict):  # no offer was made
        answer(s, c, accept=True)


def test_a_business_that_does_not_answer_in_time_loses_its_turn(s: Scenario) -> None:
    c = submit_odr(s)
    s.restart()
    s.clock.set(at("2026-12-02T23:59:58"))
    run_sweep(s.product)
    assert s.open_task_names(c) == ["business_respond"]
    s.clock.set(at("2026-12-03T00:00:00"))
    run_sweep(s.product)
    assert s.open_task_names(c) == ["review"] and s.complaint(c.id).status == "pending_acceptance"
    assert s.task("th-amr", "review", c).due_at == at("2026-12-11T23:59:59")  # 7 working days from the 3rd
    assert sent(s, c, "odr_ended")[0].context["odr_outcome"] == "timeout"
    assert events_told_to_the_business(s, c) == ["new", "odr_ended"]


def test_an_offer_left_unanswered_lapses_at_the_end_of_the_period(s: Scenario) -> None:
    c = submit_odr(s)
    s.clock.set(at("2026-11-30T10:00:00"))
    s.business_do("business_respond", OFFER, c)
    s.restart()
    s.clock.set(at("2026-12-03T00:00:00"))
    run_sweep(s.product)
    assert s.open_task_names(c) == ["review"]
    assert sent(s, c, "odr_ended")[0].context["odr_outcome"] == "timeout"
    with pytest.raises(Conflict):
        answer(s, c, accept=True)


def test_a_wrong_code_cannot_answer(s: Scenario) -> None:
    c = submit_odr(s)
    s.business_do("business_respond", OFFER, c)
    with pytest.raises(NotFound):
        answer(s, c, accept=True, code="WRONGCODE1")
    assert s.complaint(c.id).status == "negotiating"


def test_only_the_business_complained_about_may_answer(s: Scenario) -> None:
    c = submit_odr(s)
    task = s.task(business_code(s), "business_respond", c)
    for username in ("th-amr.liaison", "th-amr.supervisor"):
        actor = s.actor(username)
        with s.product.uow() as uow, pytest.raises((Forbidden, NotFound)):
            s.product.runner.complete_task(uow.session, task.id, DISPUTE, actor)
    assert s.open_task_names(c) == ["business_respond"]


def test_a_complaint_to_the_association_returns_there_after_odr(s: Scenario) -> None:
    c = submit_odr(received_by="th-cca", s=s)
    assert s.open_task_names(c) == ["business_respond"]
    s.clock.set(at("2026-11-20T10:00:00"))
    s.business_do("business_respond", DISPUTE, c)
    review = s.task("th-cca", "association_review", c)
    assert review.due_at == at("2026-12-01T23:59:59")  # the association's 7 working days from the ODR's end


def test_the_business_cannot_stop_its_own_clock(s: Scenario) -> None:
    from complaintflow.services.tasks import claim_task, suspend_task

    c = submit_odr(s)
    task = s.task(business_code(s), "business_respond", c)
    actor = s.actor(BUSINESS_USER)
    claim_task(s.product, task.id, actor)
    with pytest.raises(Forbidden):
        suspend_task(s.product, task.id, actor, "等待检测报告")
    assert s.task(business_code(s), "business_respond", c).suspended_at is None
    assert s.pending_timers(c) == [ODR_ENDS]  # the negotiation period runs on
