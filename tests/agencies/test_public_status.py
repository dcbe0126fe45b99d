"""What a complainant learns from the tracking page and API: the status in Chinese (refined by the open
task's deadline rule), the handling agency, the next step with its deadline in words, the milestones of the
complaint's own process — and nothing personal, nothing typed by staff, nothing of a case it spawned."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta

from agencies.public_status import PROVISIONAL_NOTE, SUSPENDED_NOTE, PublicView, public_view
from agencies.tables import Complaint
from complaintflow.services.tasks import suspend_task
from engine.clock import SHANGHAI
from tests.workflows.scenario import CONSENTED, START, Scenario, complaint_body

PERSON = complaint_body()["complainant"]
ACCEPTANCE = "承办单位将于 2026年11月27日 前作出是否受理的决定，并告知您"


def view_of(s: Scenario, complaint: Complaint) -> PublicView:
    with s.product.reader() as uow:
        stored = uow.session.get(Complaint, complaint.id)
        assert stored is not None
        return public_view(uow.session, stored, s.product.runner.specs)


def labels(view: PublicView) -> list[tuple[str, str, str | None]]:
    return [(m.at.astimezone(SHANGHAI).strftime("%m-%d"), m.label, m.agency) for m in view.milestones]


def test_a_complaint_awaiting_acceptance(s: Scenario) -> None:
    view = view_of(s, s.submit())
    assert (view.status, view.status_label, view.kind_label) == ("pending_acceptance", "待受理", "投诉")
    assert view.agency == "太和县市场监督管理局"
    assert view.next_step == ACCEPTANCE
    assert view.next_due_at == datetime(2026, 11, 27, 23, 59, 59, tzinfo=SHANGHAI)
    assert labels(view) == [("11-18", "投诉已登记", "太和县市场监督管理局"),
                            ("11-18", "「受理审查」办理中", "太和县市场监督管理局")]


def test_milestones_name_the_choice_made_never_what_staff_typed(s: Scenario) -> None:
    complaint = s.submit()
    s.clock.set(START + timedelta(days=1))
    s.do("th-amr", "review", {"decision": "accept", "reason": f"已电话联系投诉人 {PERSON['phone']}"}, complaint)
    s.clock.set(START + timedelta(days=2))
    s.do("th-amr", "arrange_mediation", {**CONSENTED, "mediator": "self"}, complaint)
    view = view_of(s, complaint)
    assert labels(view)[1:] == [("11-19", "「受理审查」已完成：受理", "太和县市场监督管理局"),
                                ("11-20", "「确定调解方式」已完成：本机关调解", "太和县市场监督管理局"),
                                ("11-20", "「组织调解」办理中", "太和县市场监督管理局")]
    assert view.status_label == "调解中"  # the stored status in words
    assert view.next_step == ("承办单位正在组织调解，调解期限至 2027年1月18日"  # 60 days from acceptance on the 19th
                              "（该期限按尚未公布的节假日安排估算，可能调整）")
    shown = repr(asdict(view))
    for personal in (*PERSON.values(), "人民路1号", "太和县某某电器商行", "空调一周后不制冷", "已电话联系"):
        assert personal not in shown


def test_a_case_spawned_by_the_complaint_is_not_shown(s: Scenario) -> None:
    complaint = s.submit()
    s.do("th-amr", "review", {"decision": "accept"}, complaint)
    s.do("th-amr", "arrange_mediation", {**CONSENTED, "mediator": "self"}, complaint)
    s.do("th-amr", "mediate", {"outcome": "agreement", "summary": "达成一致", "agreement_text": "退款 3299 元",
                               "violation_found": True, "violation_description": "销售不合格空调"}, complaint)
    assert s.open_task_names(complaint) == ["close", "verify_clue"]
    view = view_of(s, complaint)
    assert "线索核查" not in repr(asdict(view)) and "不合格" not in repr(asdict(view))
    assert labels(view)[-2:] == [("11-18", "「组织调解」已完成：达成调解协议", "太和县市场监督管理局"),
                                 ("11-18", "「办结」办理中", "太和县市场监督管理局")]
    assert view.next_step.startswith("承办单位将于 ") and view.next_step.endswith(" 前办结，并将处理结果告知您")


def test_a_consumer_association_and_a_report(s: Scenario) -> None:
    at_association = view_of(s, s.submit(received_by="th-cca"))
    assert at_association.agency == "太和县消费者协会" and at_association.status_label == "待受理"
    assert at_association.next_step == "承办单位将于 2026年11月27日 前作出是否受理的决定，并告知您"

    report = view_of(s, s.submit(received_by="th-amr", kind="report"))
    assert report.kind_label == "举报" and labels(report)[0][1] == "举报已登记"


def test_a_closed_complaint(s: Scenario) -> None:
    complaint = s.submit(kind="consultation")
    s.do("th-amr", "reply", {"answer": f"请致电 {PERSON['phone']} 的投诉人"}, complaint)
    view = view_of(s, complaint)
    assert (view.status, view.status_label, view.next_step, view.next_due_at) == ("closed", "已办结", "本件已办结",
                                                                                    None)
    assert labels(view)[-2:] == [("11-18", "「答复咨询」已完成", "太和县市场监督管理局"), ("11-18", "已办结", None)]
    assert PERSON["phone"] not in repr(asdict(view))


def test_a_stopped_clock_and_a_provisional_deadline_are_said(s: Scenario) -> None:
    complaint = s.submit()
    review = s.task("th-amr", "review", complaint)
    suspend_task(s.product, review.id, s.actor("th-amr.liaison"), "送检")
    assert view_of(s, complaint).next_step == ACCEPTANCE + SUSPENDED_NOTE

    s.clock.set(datetime(2030, 12, 20, 10, 0, tzinfo=SHANGHAI))  # a year whose holidays are not published
    later = view_of(s, s.submit())
    assert later.next_step.endswith(PROVISIONAL_NOTE)
