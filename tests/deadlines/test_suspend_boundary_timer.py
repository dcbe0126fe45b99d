"""Suspending a task for testing or appraisal stops its boundary timers too: while suspended they
cannot fire (not by the sweep, not by any other step of the instance); on resumption each moves by the
suspended span, the time limit in step with the task's deadline, in the saved state and the timer index."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engine import spiff
from engine.clock import SHANGHAI, FixedClock
from engine.db.tables import AuditEvent, OpenTask, PendingTimer, ProcessInstance
from engine.deadlines.service import DeadlineService
from engine.deadlines.suspension import resume, suspend
from engine.specs import deployed_version
from engine.sweep import fire_due_timers
from tests.engine.conftest import LIAISON, EngineEnv, RecordingHooks, make_runner

BPMN = (Path(__file__).parent / "suspend_boundary_timer.bpmn").read_text(encoding="utf-8")
ACCEPTED = "2026-11-18T10:00:00+08:00"  # a Wednesday
RECEIVED_UNDER_ORDER_20 = "2026-03-20T09:00:00+08:00"  # mediation: 45 working days
RECEIVED_UNDER_ORDER_121 = "2026-11-17T09:00:00+08:00"  # mediation: 60 calendar days
LIMIT, REMINDER = "mediate_time_limit", "mediate_reminder"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@pytest.fixture
def env(session_factory: sessionmaker[Session]) -> EngineEnv:
    clock = FixedClock(at("2026-11-18T10:00:00"))
    deadlines = DeadlineService()
    hooks = RecordingHooks(clock, deadlines)
    engine_env = EngineEnv(session_factory, clock, hooks, make_runner(clock, hooks, deadlines))
    engine_env.deploy(BPMN)
    return engine_env


def start(env: EngineEnv, received_at: str) -> tuple[int, OpenTask]:
    with env.uow() as uow:
        version = deployed_version(uow.session, "suspend_boundary_timer")
        record, _ = env.runner.start(uow.session, version, {
            "competent_agency": "th-amr", "received_at": received_at, "accepted_at": ACCEPTED}, LIAISON)
        uow.commit()
    return record.id, task_of(env, record.id)


def task_of(env: EngineEnv, instance_id: int) -> OpenTask:
    with env.uow() as uow:
        [task] = uow.session.scalars(select(OpenTask).where(OpenTask.instance_id == instance_id)).all()
        return task


def timers(env: EngineEnv, instance_id: int) -> dict[str, datetime]:
    """The timer index: what the sweep fires, and when."""
    with env.uow() as uow:
        return {t.task_name: t.fire_at for t in uow.session.scalars(
            select(PendingTimer).where(PendingTimer.instance_id == instance_id))}


def saved_timers(env: EngineEnv, instance_id: int) -> dict[str, datetime]:
    """The timers as SpiffWorkflow itself waits for them in the saved state, read by a fresh engine."""
    restarted = env.restarted()
    with restarted.uow() as uow:
        workflow = restarted.runner.load_workflow(uow.session, instance_id)
    return {t.task_name: t.fire_at.astimezone(SHANGHAI) for t in spiff.waiting_timers(workflow)}


def state(env: EngineEnv, instance_id: int) -> str:
    with env.uow() as uow:
        instance = uow.session.get(ProcessInstance, instance_id)
        assert instance is not None
        return instance.state


def act(env: EngineEnv, step: Any, task_id: str, reason: str) -> OpenTask:
    with env.uow() as uow:
        task: OpenTask = step(uow.session, env.runner, task_id, LIAISON, reason)
        uow.commit()
        return task


def audit(env: EngineEnv, task_id: str) -> list[tuple[str, dict[str, Any]]]:
    with env.uow() as uow:
        return [(e.action, e.details) for e in uow.session.scalars(
            select(AuditEvent).where(AuditEvent.task_id == task_id).order_by(AuditEvent.id))]


def sweep(env: EngineEnv) -> int:
    report = fire_due_timers(env.session_factory, env.runner, env.clock.now())
    assert report.errors == [] and report.conflicts == 0
    return report.timers_fired


def test_resuming_moves_the_time_limit_with_the_deadline_and_the_reminder_by_the_span(env: EngineEnv) -> None:
    instance_id, mediate = start(env, RECEIVED_UNDER_ORDER_20)
    assert mediate.due_at == at("2027-01-21T23:59:59")  # 45 working days after Wed 18 Nov (1 Jan a holiday)
    assert timers(env, instance_id) == {LIMIT: mediate.due_at, REMINDER: at("2026-11-27T23:59:59")}

    env.clock.set(at("2026-11-23T10:00:00"))  # Monday: the goods go to a testing laboratory
    act(env, suspend, mediate.id, "送检 / sent for testing")
    assert timers(env, instance_id) == {}  # held: nothing for the sweep while the clock stands still
    assert saved_timers(env, instance_id) == {}

    env.clock.set(at("2026-11-25T10:00:00"))  # Wednesday: report back; Tuesday and Wednesday do not count
    resumed = act(env, resume, mediate.id, "检测报告已出 / report received")
    assert resumed.due_at == at("2027-01-25T23:59:59")  # two working days later (Fri 22nd → Mon 25th)
    moved = {LIMIT: resumed.due_at, REMINDER: at("2026-12-01T23:59:59")}  # reminder: Fri 27th → Tue 1st
    assert timers(env, instance_id) == moved
    assert saved_timers(env, instance_id) == moved  # a restarted engine waits for the moved instants

    events = audit(env, mediate.id)
    assert [action for action, _ in events] == ["timers.held", "task.suspended", "timers.moved", "task.resumed"]
    suspended, resumed_event = events[1][1], events[3][1]
    assert {t["timer"]: t["fire_at"] for t in suspended["timers_held"]} == {
        LIMIT: at("2027-01-21T23:59:59").isoformat(), REMINDER: at("2026-11-27T23:59:59").isoformat()}
    assert {t["timer"]: (t["interrupting"], datetime.fromisoformat(t["before"]), datetime.fromisoformat(t["after"]))
            for t in resumed_event["timers_moved"]} == {
        LIMIT: (True, at("2027-01-21T23:59:59"), at("2027-01-25T23:59:59")),
        REMINDER: (False, at("2026-11-27T23:59:59"), at("2026-12-01T23:59:59"))}
    assert resumed_event["after"]["due_at"] == at("2027-01-25T23:59:59").isoformat()


def test_a_held_timer_does_not_fire_and_the_moved_one_fires_at_its_new_instant(env: EngineEnv) -> None:
    instance_id, mediate = start(env, RECEIVED_UNDER_ORDER_20)
    env.clock.set(at("2026-11-23T10:00:00"))
    act(env, suspend, mediate.id, "送鉴定 / sent for appraisal")

    env.clock.set(at("2026-11-28T08:00:00"))  # the reminder's old instant (Fri 27th, 24:00) has passed
    assert sweep(env) == 0
    with env.uow() as uow:  # any other step of the instance re-evaluates its timers: still held
        env.runner.fire_timers(uow.session, instance_id)
        uow.commit()
    assert '"reminded"' not in state(env, instance_id)

    env.clock.set(at("2026-11-30T10:00:00"))  # Monday: resumed after 5 working days (24th–27th, 30th)
    act(env, resume, mediate.id, "鉴定意见已出 / appraisal received")
    assert timers(env, instance_id)[REMINDER] == at("2026-12-04T23:59:59")
    env.clock.set(at("2026-12-04T23:59:58"))
    assert sweep(env) == 0
    env.clock.set(at("2026-12-05T00:00:00"))
    assert sweep(env) == 1  # the reminder, once; mediation goes on
    assert '"reminded":true' in state(env, instance_id)
    assert task_of(env, instance_id).id == mediate.id
    assert set(timers(env, instance_id)) == {LIMIT}


def test_the_time_limit_ends_mediation_only_at_its_moved_instant(env: EngineEnv) -> None:
    instance_id, mediate = start(env, RECEIVED_UNDER_ORDER_121)
    # 60 calendar days end on Sunday 17 January 2027, so on the next working day
    assert mediate.due_at == timers(env, instance_id)[LIMIT] == at("2027-01-18T23:59:59")
    env.clock.set(at("2026-11-23T10:00:00"))
    act(env, suspend, mediate.id, "送检 / sent for testing")
    env.clock.set(at("2027-01-19T08:00:00"))  # the old time limit has passed during the suspension
    assert sweep(env) == 0
    assert task_of(env, instance_id).id == mediate.id

    env.clock.set(at("2027-01-20T09:00:00"))  # 58 calendar days suspended
    resumed = act(env, resume, mediate.id, "检测报告已出 / report received")
    # the nominal 17 January moves by 58 days (not the rolled 18th), and the timer stays with it; the
    # reminder moves by the same 58 days, counted as the task's deadline counts (Sun 24th → Mon 25th)
    assert resumed.due_at == at("2027-03-16T23:59:59")
    assert timers(env, instance_id) == {LIMIT: resumed.due_at, REMINDER: at("2027-01-25T23:59:59")}
    env.clock.set(at("2027-03-16T23:59:58"))
    assert sweep(env) == 1  # the reminder only
    assert task_of(env, instance_id).id == mediate.id
    env.clock.set(at("2027-03-17T00:00:00"))
    assert sweep(env) == 1
    with env.uow() as uow:
        assert uow.session.scalars(select(OpenTask).where(OpenTask.instance_id == instance_id)).all() == []
        instance = uow.session.get(ProcessInstance, instance_id)
        assert instance is not None and instance.status == "completed"
        assert '"outcome":"timeout"' in instance.state


def test_re_evaluating_timers_keeps_them_moved(env: EngineEnv) -> None:
    """A calendar year entered later re-evaluates the timers' expressions: they must not lose the days."""
    instance_id, mediate = start(env, RECEIVED_UNDER_ORDER_20)
    env.clock.set(at("2026-11-23T10:00:00"))
    act(env, suspend, mediate.id, "送检 / sent for testing")
    with env.uow() as uow:  # while held, the hold survives too
        env.runner.recompute_timers(uow.session, instance_id)
        uow.commit()
    assert timers(env, instance_id) == {}
    env.clock.set(at("2026-11-25T10:00:00"))
    act(env, resume, mediate.id, "检测报告已出 / report received")
    moved = timers(env, instance_id)
    with env.uow() as uow:
        env.runner.recompute_timers(uow.session, instance_id)
        uow.commit()
    assert timers(env, instance_id) == moved == {LIMIT: at("2027-01-25T23:59:59"), REMINDER: at("2026-12-01T23:59:59")}


def test_a_second_suspension_moves_the_timers_again_and_a_timer_already_due_is_not_held(env: EngineEnv) -> None:
    instance_id, mediate = start(env, RECEIVED_UNDER_ORDER_20)
    for suspended, resumed in (("2026-11-23T10:00:00", "2026-11-25T10:00:00"),   # Tue 24th, Wed 25th
                               ("2026-12-07T10:00:00", "2026-12-09T16:00:00")):  # Tue 8th, Wed 9th
        env.clock.set(at(suspended))
        act(env, suspend, mediate.id, "送检 / sent for testing")
        env.clock.set(at(resumed))
        task = act(env, resume, mediate.id, "检测报告已出 / report received")
    assert task.due_at == at("2027-01-27T23:59:59")  # 45 + 2 + 2 working days
    # the reminder was due (Tue 1 December) before the second suspension began: it was not held or
    # moved again, and fires at the next sweep
    assert timers(env, instance_id) == {LIMIT: task.due_at, REMINDER: at("2026-12-01T23:59:59")}
    assert saved_timers(env, instance_id) == {LIMIT: task.due_at, REMINDER: at("2026-12-01T23:59:59")}
    assert sweep(env) == 1
    assert timers(env, instance_id) == {LIMIT: task.due_at}
    assert task_of(env, instance_id).id == mediate.id
