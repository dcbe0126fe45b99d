"""A complaint's history in words: each audit event one Chinese sentence, with who and when."""

from __future__ import annotations

from datetime import timedelta

from agencies.tables import Agency
from complaintflow.services import tasks as task_actions
from tests.workflows.scenario import START, Scenario
from web.pages.timeline import timeline_for


def agency_id(s: Scenario, code: str) -> int:
    with s.product.uow() as uow:
        found = uow.session.query(Agency).filter_by(code=code).one()
        return found.id


def test_the_history_names_people_tasks_and_reasons_in_chinese(s: Scenario) -> None:
    complaint = s.submit()
    review = s.task("th-amr", "review", complaint)
    liaison = s.actor("th-amr.liaison")
    task_actions.claim_task(s.product, review.id, liaison)
    s.clock.set(START + timedelta(hours=2))
    task_actions.suspend_task(s.product, review.id, liaison, "等待检测报告")
    task_actions.resume_task(s.product, review.id, liaison, "检测报告已出")
    task_actions.assign_task(s.product, review.id, "th-amr.supervisor", s.actor("th-amr.supervisor"))
    s.do("th-amr", "review", {"decision": "accept"}, complaint, role="supervisor")

    with s.product.uow() as uow:
        entries = timeline_for(uow.session, s.complaint(complaint.id), agency_id(s, "th-amr"))
    whats = [entry.what for entry in entries]
    assert whats[0] == "启动投诉处理流程"
    assert whats[1:6] == ["领取「受理审查」", "暂停「受理审查」计时", "恢复「受理审查」计时",
                          f"将「受理审查」转交给{entries[-1].who.split('（')[0]}", "领取「受理审查」"]
    assert whats[-1] == "完成「受理审查」"
    assert [e.note for e in entries if e.note] == ["等待检测报告", "检测报告已出"]
    assert entries[1].who.endswith("（太和县市场监督管理局）")
    assert entries[0].at == "2026年11月18日 09:30" and entries[2].at == "2026年11月18日 11:30"
