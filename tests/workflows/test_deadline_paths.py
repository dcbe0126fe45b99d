"""Deadlines on the reference workflow's paths, through the service layer, on SQLite and PostgreSQL,
restarting the engine (new objects over the same database) between steps:

- escalation to the supervising agency comes when the third working day after the last day has
  ended, counted across the National Day holiday and its make-up working day, not a second earlier;
- suspending ``mediate`` for testing or appraisal (检测鉴定) moves the mediation boundary timer with the
  task's deadline, and after a restart the timer fires at its new instant, not the old one.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from agencies.repository import get_user
from agencies.tables import Complaint
from complaintflow.jobs import run_sweep
from complaintflow.services.tasks import resume_task, suspend_task
from engine import spiff
from engine.clock import SHANGHAI, FixedClock
from engine.db.tables import AuditEvent, DeadlineStep
from notifications.tables import OutboxMessage
from tests.workflows.scenario import CONSENTED, Scenario


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def rungs(s: Scenario, c: Complaint) -> list[AuditEvent]:
    with s.product.uow() as uow:
        return list(uow.session.scalars(select(AuditEvent).where(
            AuditEvent.complaint_id == c.id, AuditEvent.action.like("deadline.%")).order_by(AuditEvent.id)))


def in_app(s: Scenario, template: str) -> set[str]:
    with s.product.uow() as uow:
        return set(uow.session.scalars(select(OutboxMessage.recipient).where(
            OutboxMessage.channel == "in_app", OutboxMessage.template == template)))


# ---------------------------------------------------------------- escalation across a holiday
# 2026: Mid-Autumn Festival Fri 25 – Sun 27 September, National Day Thu 1 – Wed 7 October, with
# Sunday 20 September and Saturday 10 October worked (调休上班).
RECEIVED = at("2026-09-20T10:00:00")  # a make-up working Sunday


@pytest.fixture
def before_national_day(database_url: str) -> Iterator[Scenario]:
    """The seeded product with its clock on Sunday 2026-09-20."""
    scenario = Scenario(database_url, FixedClock(RECEIVED)).seed()
    yield scenario
    scenario.close()


def test_escalation_comes_when_the_third_working_day_after_a_holiday_has_ended(
        before_national_day: Scenario) -> None:
    s = before_national_day
    c = s.submit()  # 7 working days: 21–24 September, then 28, 29, 30 (the festival is not counted)
    review = s.task("th-amr", "review", c)
    assert review.due_at is not None and review.due_at.isoformat() == "2026-09-30T23:59:59+08:00"
    assert not review.provisional
    with s.product.uow() as uow:
        escalation_at = uow.session.scalars(select(DeadlineStep.fire_at).where(
            DeadlineStep.task_id == review.id, DeadlineStep.step == "escalation")).one()
    # after the last day: Thu 8 and Fri 9 October, then the make-up Saturday 10 October is the third
    assert escalation_at == at("2026-10-11T00:00:00")
    s.restart()
    assert run_sweep(s.product, at("2026-09-28T09:00:00")).steps.by_step == {"reminder": 1}
    assert run_sweep(s.product, at("2026-10-10T23:59:59")).steps.by_step == {"overdue": 1}  # one second before
    assert [r.action for r in rungs(s, c)] == ["deadline.reminder", "deadline.overdue"]
    assert in_app(s, "escalation") == set()
    s.restart()
    assert run_sweep(s.product, at("2026-10-11T00:00:00")).steps.by_step == {"escalation": 1}
    escalated = rungs(s, c)[-1]
    assert escalated.action == "deadline.escalation"
    assert escalated.details["recipients"] == ["fy-amr.supervisor"]  # the supervisors of th-amr's parent
    with s.product.uow() as uow:
        supervisor = get_user(uow.session, "fy-amr.supervisor")
        assert supervisor is not None
    assert in_app(s, "escalation") == {str(supervisor.id)}  # their in-app notice, queued in the sweep
    assert run_sweep(s.product, at("2026-10-12T09:00:00")).steps.handled == 0  # never twice
    assert s.open_task_names(c) == ["review"]  # escalation tells, it does not decide


# ---------------------------------------------------- suspending mediation moves its time limit
def outcome_after_timeout(s: Scenario, c: Complaint) -> Any:
    """The ``outcome`` the workflow carries into its ``close`` task."""
    close = s.task("th-amr", "close", c)
    with s.product.uow() as uow:
        workflow = s.product.runner.load_workflow(uow.session, close.instance_id)
        [task] = [t for t in spiff.ready_human_tasks(workflow) if str(t.id) == close.id]
        return task.data.get("outcome")


def test_suspending_mediation_moves_its_timer_which_fires_at_the_new_instant_after_a_restart(
        s: Scenario) -> None:
    c = s.submit()  # Wed 2026-11-18
    s.do("th-amr", "review", {"decision": "accept"}, c)
    s.do("th-amr", "arrange_mediation", {**CONSENTED, "mediator": "self"}, c)
    mediate = s.task("th-amr", "mediate", c)
    old_due = mediate.due_at
    assert old_due is not None and old_due.isoformat() == "2027-01-18T23:59:59+08:00"  # 60 days, rolled to Monday
    assert s.pending_timers(c) == [old_due]
    liaison = s.actor("th-amr.liaison")

    s.clock.set(at("2026-11-20T10:00:00"))  # Friday: the air conditioner goes to a testing laboratory
    suspend_task(s.product, mediate.id, liaison, "空调送检测机构检测鉴定")
    assert s.pending_timers(c) == []  # held: it cannot fire while the clock stands still
    s.restart()
    s.clock.set(at("2026-11-30T15:00:00"))  # Monday: the report is back, ten calendar days later
    resumed = resume_task(s.product, mediate.id, s.actor("th-amr.liaison"), "检测报告已出具")
    # a calendar-day rule moves by the calendar days in (20th, 30th]: the 60th day Sun 17 January + 10
    new_due = resumed.due_at
    assert new_due is not None and new_due.isoformat() == "2027-01-27T23:59:59+08:00"
    assert s.pending_timers(c) == [new_due]  # the boundary timer moved with the task's deadline

    # A time limit ends at 24:00 of its last day: its timer fires once the instant 23:59:59 has passed.
    s.restart()
    s.clock.set(old_due + timedelta(seconds=1))  # 2027-01-19T00:00: when the old limit would have ended
    assert run_sweep(s.product).timers.timers_fired == 0
    assert s.open_task_names(c) == ["mediate"] and s.complaint(c.id).status == "mediating"
    s.clock.set(new_due)  # the last second of the new last day still belongs to the mediation
    assert run_sweep(s.product).timers.timers_fired == 0
    assert s.open_task_names(c) == ["mediate"]

    s.restart()
    s.clock.set(new_due + timedelta(seconds=1))  # 2027-01-28T00:00
    assert run_sweep(s.product).timers.timers_fired == 1
    assert s.open_task_names(c) == ["close"] and s.complaint(c.id).status == "terminated"
    assert outcome_after_timeout(s, c) == "timeout"
    assert s.notices(c)[-1] == "termination"
