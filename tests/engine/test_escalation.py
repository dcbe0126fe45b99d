"""Deadlines move with suspensions; the ladder fires each rung once, in order, even after downtime."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from engine.clock import SHANGHAI
from engine.db.tables import AuditEvent, DeadlineStep, OpenTask
from engine.deadlines.ladder import sweep_steps
from engine.deadlines.suspension import resume, suspend
from tests.engine.conftest import LIAISON, EngineEnv
from tests.engine.test_runner import TWO_STEPS, open_tasks, start
from tests.rows import placeholder_instance


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


class RecordingHandler:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, datetime]] = []

    def handle(self, session: Session, step: DeadlineStep, task: OpenTask, now: datetime) -> dict[str, Any]:
        self.calls.append((step.step, task.task_name, step.fire_at))
        return {}


def steps_of(env: EngineEnv, task_id: str) -> dict[str, datetime]:
    with env.uow() as uow:
        return {s.step: s.fire_at for s in uow.session.scalars(
            select(DeadlineStep).where(DeadlineStep.task_id == task_id, DeadlineStep.done_at.is_(None)))}


def test_a_task_deadline_gets_its_ladder(env: EngineEnv) -> None:
    env.deploy(TWO_STEPS)
    [review] = open_tasks(env, start(env, "two_steps"))  # acceptance: due Fri 2026-11-27
    assert steps_of(env, review.id) == {
        "reminder": at("2026-11-25T00:00:00"),  # two working days before the last day
        "overdue": at("2026-11-28T00:00:00"),  # just after 23:59:59 of the last day
        "escalation": at("2026-12-03T00:00:00"),  # once the third working day after it (Wed 2nd) has ended
    }


def test_suspension_moves_the_deadline_by_exactly_the_suspended_span(env: EngineEnv) -> None:
    env.deploy(TWO_STEPS)
    [review] = open_tasks(env, start(env, "two_steps"))
    assert review.due_at == at("2026-11-27T23:59:59")
    env.clock.set(at("2026-11-23T10:00:00"))  # Monday: the goods go to a testing laboratory
    with env.uow() as uow:
        suspend(uow.session, env.runner, review.id, LIAISON, "送检 / sent for testing")
        uow.commit()
    assert steps_of(env, review.id) == {}  # a paused clock neither reminds nor escalates
    env.clock.set(at("2026-11-25T10:00:00"))  # Wednesday: the report is back; Tue and Wed did not count
    with env.uow() as uow:
        task = resume(uow.session, env.runner, review.id, LIAISON, "检测报告已出 / report received")
        uow.commit()
    assert task.due_at == at("2026-12-01T23:59:59")  # Fri 27th + 2 working days = Tue 1st
    assert steps_of(env, review.id)["overdue"] == at("2026-12-02T00:00:00")
    with env.uow() as uow:
        actions = uow.session.scalars(select(AuditEvent.action).where(AuditEvent.task_id == review.id)
                                      .order_by(AuditEvent.id)).all()
    assert actions == ["task.suspended", "task.resumed"]


def test_after_a_week_of_downtime_the_sweep_catches_up_once_and_in_order(env: EngineEnv) -> None:
    env.deploy(TWO_STEPS)
    [review] = open_tasks(env, start(env, "two_steps"))
    handler = RecordingHandler()
    env.clock.set(at("2026-12-04T12:00:00"))  # the scheduler was down since the 18th
    report = sweep_steps(env.session_factory, handler, env.clock.now())
    # the reminder would remind of a deadline already past: recorded as skipped, not sent
    assert [c[0] for c in handler.calls] == ["overdue", "escalation"]
    assert (report.handled, report.skipped) == (2, 1)
    assert sweep_steps(env.session_factory, handler, env.clock.now()).handled == 0  # never twice
    with env.uow() as uow:
        audit = uow.session.execute(select(AuditEvent.action, AuditEvent.details).where(
            AuditEvent.action.like("deadline.%")).order_by(AuditEvent.id)).all()
    assert [a.action for a in audit] == ["deadline.reminder", "deadline.overdue", "deadline.escalation"]
    assert audit[0].details["reason"] == "deadline_passed"
    assert steps_of(env, review.id) == {}  # nothing left undone


def test_escalation_waits_until_the_third_working_day_after_the_deadline_has_ended(env: EngineEnv) -> None:
    env.deploy(TWO_STEPS)
    assert len(open_tasks(env, start(env, "two_steps"))) == 1  # due Fri 2026-11-27
    handler = RecordingHandler()
    env.clock.set(at("2026-11-26T12:00:00"))  # before the deadline: the reminder goes out
    assert sweep_steps(env.session_factory, handler, env.clock.now()).handled == 1
    env.clock.set(at("2026-12-02T23:59:59"))  # Mon, Tue, Wed: the third working day is not over yet
    sweep_steps(env.session_factory, handler, env.clock.now())
    assert [c[0] for c in handler.calls] == ["reminder", "overdue"]
    env.clock.set(at("2026-12-03T00:00:00"))
    sweep_steps(env.session_factory, handler, env.clock.now())
    assert [c[0] for c in handler.calls] == ["reminder", "overdue", "escalation"]


def test_completed_tasks_leave_the_ladder(env: EngineEnv) -> None:
    env.deploy(TWO_STEPS)
    [review] = open_tasks(env, start(env, "two_steps"))
    with env.uow() as uow:
        env.runner.complete_task(uow.session, review.id, {"decision": "accept"}, LIAISON)
        uow.commit()
    env.clock.set(at("2026-12-31T00:00:00"))
    assert sweep_steps(env.session_factory, RecordingHandler(), env.clock.now()).handled == 0


def seed_due_steps(session_factory: sessionmaker[Session], count: int, now: datetime) -> None:
    with session_factory() as session:
        instance_id = placeholder_instance(session, now)
        due = now - timedelta(days=1)
        session.execute(insert(OpenTask), [
            {"id": f"task-{i:05d}", "instance_id": instance_id, "task_name": "t", "title": "t", "process_id": "p",
             "lane": "liaison", "agency_code": "th-amr", "due_at": due, "provisional": False, "created_at": now,
             "deadline_extended": False} for i in range(count)])
        session.execute(insert(DeadlineStep), [
            {"task_id": f"task-{i:05d}", "instance_id": instance_id, "step": "overdue", "due_at": due,
             "fire_at": due + timedelta(seconds=1)} for i in range(count)])
        session.commit()


def test_two_sweeping_processes_on_postgresql_handle_each_item_exactly_once(
        pg_session_factory: sessionmaker[Session]) -> None:
    now = at("2026-11-30T09:00:00")
    seed_due_steps(pg_session_factory, 2000, now)
    url = pg_session_factory.kw["bind"].url.render_as_string(hide_password=False)
    root = Path(__file__).resolve().parents[2]
    workers = [subprocess.Popen([sys.executable, "-m", "tests.engine.sweep_worker", url, now.isoformat(), f"w{i}"],
                                cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for i in range(2)]
    handled = []
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
        handled.append(int(out.strip()))
    assert sum(handled) == 2000
    assert all(h > 0 for h in handled), handled  # both processes took a share
    with pg_session_factory() as session:
        rows = session.execute(select(AuditEvent.task_id, func.count()).where(AuditEvent.action == "deadline.overdue")
                               .group_by(AuditEvent.task_id)).all()
        assert len(rows) == 2000 and {count for _task, count in rows} == {1}
        assert session.scalar(select(func.count()).select_from(DeadlineStep).where(DeadlineStep.done_at.is_(None))) == 0
