"""Who may claim, hand over, release, suspend and complete a task, what the audit records of it, and
the form keyword that refuses the completing agency's own code — on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engine.bpmn.scaffold import UserTask, build
from engine.clock import SHANGHAI, FixedClock
from engine.db.tables import AuditEvent, OpenTask, ProcessInstance
from engine.deadlines.service import DeadlineService
from engine.deadlines.suspension import resume, suspend
from engine.errors import Conflict, Forbidden, InvalidInput, InvalidWorkflow
from engine.runner import Actor
from tests.engine.conftest import LIAISON, SUPERVISOR, AfterLoadHooks, EngineEnv, RecordingHooks, make_runner
from tests.engine.test_runner import TWO_STEPS, complete, open_tasks, start

COLLEAGUE = Actor("th-amr.liaison2", "th-amr", frozenset({"liaison"}))
PEOPLE = {actor.username: actor for actor in (LIAISON, SUPERVISOR, COLLEAGUE)}


def review_task(env: EngineEnv) -> OpenTask:
    env.deploy(TWO_STEPS)
    [review] = open_tasks(env, start(env, "two_steps"))
    return review


def act(env: EngineEnv, what: str, task_id: str, actor: Actor, *args: Any) -> None:
    with env.uow() as uow:
        if what == "claim":
            env.runner.tasks.claim(uow.session, task_id, actor)
        elif what == "release":
            env.runner.tasks.release(uow.session, task_id, actor)
        elif what == "assign":
            env.runner.tasks.assign(uow.session, task_id, args[0], actor, PEOPLE.get)
        elif what == "suspend":
            suspend(uow.session, env.runner, task_id, actor, "送检")
        elif what == "resume":
            resume(uow.session, env.runner, task_id, actor, "检测报告已出")
        uow.commit()


def assignee_changes(env: EngineEnv, task_id: str) -> list[tuple[str, str, Any, Any]]:
    with env.uow() as uow:
        rows = uow.session.scalars(select(AuditEvent).where(AuditEvent.task_id == task_id, AuditEvent.action.in_(
            ["task.claimed", "task.assigned", "task.released"])).order_by(AuditEvent.id)).all()
        return [(row.action, row.actor, row.details["before"]["assignee"], row.details["after"]["assignee"])
                for row in rows]


def test_the_audit_records_the_real_assignee_before_and_after(env: EngineEnv) -> None:
    review = review_task(env)
    act(env, "claim", review.id, LIAISON)
    act(env, "assign", review.id, SUPERVISOR, COLLEAGUE.username)  # the supervisor hands it to a colleague
    act(env, "release", review.id, COLLEAGUE)
    assert assignee_changes(env, review.id) == [
        ("task.claimed", "th-amr.liaison", None, "th-amr.liaison"),
        ("task.assigned", "th-amr.supervisor", "th-amr.liaison", "th-amr.liaison2"),
        ("task.released", "th-amr.liaison2", "th-amr.liaison2", None),
    ]


def test_a_claimed_task_is_suspended_and_resumed_only_by_its_assignee_or_a_supervisor(env: EngineEnv) -> None:
    review = review_task(env)
    act(env, "suspend", review.id, COLLEAGUE)  # unclaimed: whoever may work it may stop its clock
    act(env, "resume", review.id, LIAISON)
    act(env, "claim", review.id, LIAISON)
    with pytest.raises(Forbidden, match=r"th-amr\.liaison"):
        act(env, "suspend", review.id, COLLEAGUE)
    act(env, "suspend", review.id, LIAISON)
    with pytest.raises(Forbidden):
        act(env, "resume", review.id, COLLEAGUE)
    act(env, "resume", review.id, SUPERVISOR)
    with env.uow() as uow:
        actions = [tuple(row) for row in uow.session.execute(select(AuditEvent.actor, AuditEvent.action).where(
            AuditEvent.task_id == review.id, AuditEvent.action.in_(["task.suspended", "task.resumed"]))
            .order_by(AuditEvent.id))]
    assert actions == [("th-amr.liaison2", "task.suspended"), ("th-amr.liaison", "task.resumed"),
                       ("th-amr.liaison", "task.suspended"), ("th-amr.supervisor", "task.resumed")]


def test_a_suspended_task_is_resumed_before_it_can_be_completed(env: EngineEnv) -> None:
    review = review_task(env)
    act(env, "suspend", review.id, LIAISON)
    act(env, "claim", review.id, LIAISON)  # claiming and handing over a suspended task is fine
    act(env, "assign", review.id, SUPERVISOR, COLLEAGUE.username)
    with env.uow() as uow:
        version = uow.session.get(ProcessInstance, review.instance_id).version
    with pytest.raises(Conflict, match=r"^任务已中止计时，请先恢复"):
        complete(env, review.id, {"decision": "accept"}, COLLEAGUE)
    [still] = open_tasks(env, review.instance_id)
    assert (still.id, still.suspended_at is not None) == (review.id, True)
    with env.uow() as uow:
        assert uow.session.get(ProcessInstance, review.instance_id).version == version  # nothing was saved
    act(env, "resume", review.id, COLLEAGUE)
    complete(env, review.id, {"decision": "accept"}, COLLEAGUE)
    assert [t.task_name for t in open_tasks(env, review.instance_id)] == ["close"]


def test_handing_over_needs_the_right_before_anything_about_the_target_is_looked_up(env: EngineEnv) -> None:
    review = review_task(env)
    looked_up: list[str] = []

    def resolve(name: str) -> Actor | None:
        looked_up.append(name)
        return PEOPLE.get(name)

    for target in ("nobody", "th-amr.liaison2"):
        with env.uow() as uow, pytest.raises(Forbidden):
            env.runner.tasks.assign(uow.session, review.id, target, LIAISON, resolve)  # unclaimed, not a supervisor
    assert looked_up == []
    refusals = []
    for target in ("nobody", "lq-amr.liaison"):
        with env.uow() as uow, pytest.raises(InvalidInput) as error:
            env.runner.tasks.assign(uow.session, review.id, target, SUPERVISOR,
                              lambda name: PEOPLE.get(name) or (Actor(name, "lq-amr", frozenset({"liaison"}))
                                                                if name.startswith("lq-") else None))
        refusals.append([e.as_dict() for e in error.value.errors])
    assert refusals[0] == refusals[1] == [{"field": "username", "message": "该用户不能办理此任务 / this user cannot "
                                                                          "work this task"}]


NOT_OWN = {"type": "object", "properties": {
    "target": {"type": "string", "title": "转至", "x-not-own-agency": True}, "note": {"type": "string"}},
    "additionalProperties": False}


def test_a_field_marked_not_own_agency_refuses_the_completing_agencys_code(env: EngineEnv) -> None:
    env.deploy(build("hand_on", [UserTask("pass_on", "移交", form=NOT_OWN), UserTask("after", "后续")],
                     agency="competent_agency"))
    [task] = open_tasks(env, start(env, "hand_on"))
    with pytest.raises(InvalidInput) as error:
        complete(env, task.id, {"target": "th-amr", "note": "th-amr"})
    assert [(e.field, e.message) for e in error.value.errors] == [
        ("data.target", "不能填写本单位（th-amr）/ must not be your own agency")]
    assert [t.id for t in open_tasks(env, task.instance_id)] == [task.id]
    complete(env, task.id, {"target": "lq-amr", "note": "th-amr"})  # another agency's code, and an unmarked field
    assert [t.task_name for t in open_tasks(env, task.instance_id)] == ["after"]


@pytest.mark.parametrize(("form", "message"), [
    ({"type": "object", "properties": {"target": {"type": "string", "x-not-own-agency": "yes"}}}, "须为 true"),
    ({"type": "object", "properties": {"target": {"type": "integer", "x-not-own-agency": True}}}, "字符串字段"),
    ({"type": "object", "properties": {"target": {"type": "string"}},
      "allOf": [{"then": {"properties": {"target": {"x-not-own-agency": True}}}}]}, "顶层 properties"),
    ({"type": "object", "x-not-own-agency": True}, "顶层 properties"),
], ids=["not-true", "not-a-string", "nested", "on-the-form"])
def test_the_validator_refuses_a_form_keyword_it_would_not_enforce(env: EngineEnv, form: dict[str, Any],
                                                                    message: str) -> None:
    with pytest.raises(InvalidWorkflow) as error:
        env.deploy(build("bad_keyword", [UserTask("pass_on", "移交", form=form)], agency="competent_agency"))
    assert [(i.element_id, message in i.message) for i in error.value.issues] == [("pass_on", True)]


def test_a_completion_that_read_the_task_before_it_was_suspended_is_refused(
        pg_session_factory: sessionmaker[Session]) -> None:
    clock = FixedClock(datetime(2026, 11, 18, 10, 0, tzinfo=SHANGHAI))
    plain = RecordingHooks(clock, DeadlineService())
    env = EngineEnv(pg_session_factory, clock, plain, make_runner(clock, plain))
    review = review_task(env)
    loaded, go_on = threading.Event(), threading.Event()

    def hold() -> None:  # the completion has read the task and the instance; wait until the suspend commits
        loaded.set()
        go_on.wait(10)

    holding = AfterLoadHooks(clock, DeadlineService(), after_load=hold)
    completing = make_runner(clock, holding)
    outcome: list[BaseException | None] = []

    def complete_in_thread() -> None:
        try:
            with env.uow() as uow:
                completing.complete_task(uow.session, review.id, {"decision": "accept"}, LIAISON)
                uow.commit()
            outcome.append(None)
        except Conflict as exc:
            outcome.append(exc)

    thread = threading.Thread(target=complete_in_thread)
    thread.start()
    assert loaded.wait(10)
    act(env, "suspend", review.id, LIAISON)  # commits while the completion holds its read
    go_on.set()
    thread.join(30)
    assert len(outcome) == 1 and isinstance(outcome[0], Conflict)
    with env.uow() as uow:
        task = uow.session.get(OpenTask, review.id)
        assert task is not None and task.suspended_at is not None  # still open, clock stopped
