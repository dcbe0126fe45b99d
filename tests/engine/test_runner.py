"""The runner on a real database: tasks indexed, forms checked, agencies isolated, state persisted."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from engine.bpmn.scaffold import Catch, Script, Throw, UserTask, build
from engine.clock import SHANGHAI
from engine.db.tables import AuditEvent, OpenTask, PendingMessage, PendingTimer, ProcessInstance
from engine.errors import Forbidden, InvalidInput, NotFound
from engine.specs import deployed_version
from tests.engine.conftest import LIAISON, OTHER_AGENCY, SUPERVISOR, EngineEnv

DECISION_FORM = {
    "type": "object",
    "properties": {"decision": {"enum": ["accept", "reject"]}, "reason": {"type": "string", "minLength": 1}},
    "required": ["decision"],
    "additionalProperties": False,
}
TWO_STEPS = build("two_steps", [
    UserTask("review", "受理审查", form=DECISION_FORM, deadline="acceptance", deadline_from="received_at"),
    Script("mark", "reviewed = decision == 'accept'"),
    UserTask("close", "办结", lane="supervisor"),
], agency="competent_agency")

RECEIVED = "2026-11-18T09:30:00+08:00"


def start(env: EngineEnv, key: str, data: dict | None = None) -> int:
    with env.uow() as uow:
        version = deployed_version(uow.session, key)
        record, _opened = env.runner.start(uow.session, version,
                                           data or {"competent_agency": "th-amr", "received_at": RECEIVED}, LIAISON)
        uow.commit()
        return record.id


def open_tasks(env: EngineEnv, instance_id: int) -> list[OpenTask]:
    with env.uow() as uow:
        return list(uow.session.scalars(select(OpenTask).where(OpenTask.instance_id == instance_id)))


def complete(env: EngineEnv, task_id: str, data: dict, actor=LIAISON):
    with env.uow() as uow:
        result = env.runner.complete_task(uow.session, task_id, data, actor)
        uow.commit()
        return result


def test_a_started_instance_indexes_its_task_with_agency_lane_and_deadline(env: EngineEnv) -> None:
    env.deploy(TWO_STEPS)
    instance_id = start(env, "two_steps")
    [task] = open_tasks(env, instance_id)
    assert (task.task_name, task.title, task.lane, task.agency_code) == ("review", "受理审查", "liaison", "th-amr")
    assert task.deadline_rule == "acceptance"
    assert task.due_at == datetime(2026, 11, 27, 23, 59, 59, tzinfo=SHANGHAI)
    assert task.provisional is False


def test_completing_advances_persists_and_audits(env: EngineEnv) -> None:
    env.deploy(TWO_STEPS)
    instance_id = start(env, "two_steps")
    [review] = open_tasks(env, instance_id)
    result = complete(env, review.id, {"decision": "accept"})
    assert [t.task_name for t in result.next_tasks] == ["close"]
    [close] = open_tasks(env, instance_id)
    assert close.lane == "supervisor"

    after_restart = env.restarted()  # new engine objects, same database
    result = complete(after_restart, close.id, {}, SUPERVISOR)
    assert result.instance_status == "completed" and result.next_tasks == []
    with env.uow() as uow:
        instance = uow.session.get(ProcessInstance, instance_id)
        assert instance.status == "completed" and instance.version == 3
        assert '"reviewed":true' in instance.state
        assert '"spec"' not in instance.state[:200]  # state only; the spec is stored once per version
        actions = uow.session.scalars(select(AuditEvent.action).where(AuditEvent.instance_id == instance_id)
                                      .order_by(AuditEvent.id)).all()
        assert actions == ["instance.started", "task.completed", "task.completed"]
        assert uow.session.scalar(select(func.count()).select_from(OpenTask)) == 0


def test_form_data_is_validated_and_nothing_changes_on_error(env: EngineEnv) -> None:
    env.deploy(TWO_STEPS)
    instance_id = start(env, "two_steps")
    [review] = open_tasks(env, instance_id)
    with pytest.raises(InvalidInput) as error:
        complete(env, review.id, {"decision": "maybe", "colour": "red"})
    fields = {e.field for e in error.value.errors}
    assert fields == {"data.decision", "data.colour"}
    with pytest.raises(InvalidInput) as error:
        complete(env, review.id, {})
    assert [e.field for e in error.value.errors] == ["data.decision"]
    [still] = open_tasks(env, instance_id)
    assert still.id == review.id
    with env.uow() as uow:
        assert uow.session.get(ProcessInstance, instance_id).version == 1


def test_another_agency_cannot_see_a_task_and_roles_are_enforced(env: EngineEnv) -> None:
    env.deploy(TWO_STEPS)
    instance_id = start(env, "two_steps")
    [review] = open_tasks(env, instance_id)
    with pytest.raises(NotFound):
        complete(env, review.id, {"decision": "accept"}, OTHER_AGENCY)
    with pytest.raises(NotFound):
        complete(env, "00000000-0000-0000-0000-000000000000", {"decision": "accept"})
    complete(env, review.id, {"decision": "accept"})
    [close] = open_tasks(env, instance_id)
    with pytest.raises(Forbidden):  # a supervisor lane needs a supervisor
        complete(env, close.id, {}, LIAISON)


def test_claimed_task_belongs_to_its_assignee(env: EngineEnv) -> None:
    env.deploy(TWO_STEPS)
    [review] = open_tasks(env, start(env, "two_steps"))
    colleague = LIAISON.__class__("th-amr.liaison2", "th-amr", frozenset({"liaison"}))
    with env.uow() as uow:
        env.runner.tasks.claim(uow.session, review.id, colleague)
        uow.commit()
    with pytest.raises(Forbidden):
        complete(env, review.id, {"decision": "accept"}, LIAISON)
    with env.uow() as uow:
        env.runner.tasks.release(uow.session, review.id, SUPERVISOR)
        uow.commit()
    complete(env, review.id, {"decision": "reject", "reason": "不属于受理范围"})


def test_a_thrown_message_starts_the_spec_that_catches_it(env: EngineEnv) -> None:
    env.deploy(build("case_handling", [
        Script("unpack", 'regulator_agency = clue["regulator_agency"]\ncomplaint_id = clue["complaint_id"]'),
        UserTask("verify", "线索核查", lane="enforcement"),
    ], agency="regulator_agency", start_message="violation_clue"))
    env.deploy(build("raises_clue", [
        Throw("clue", "violation_clue", '{"complaint_id": complaint_id, "regulator_agency": "th-amr"}'),
    ]))
    source = start(env, "raises_clue", {"complaint_id": 41})
    with env.uow() as uow:
        instances = uow.session.scalars(select(ProcessInstance).order_by(ProcessInstance.id)).all()
        first, case = instances
        assert (first.id, first.status, first.complaint_id) == (source, "completed", None)
        assert case.complaint_id == 41 and case.status == "running"
        [verify] = uow.session.scalars(select(OpenTask).where(OpenTask.instance_id == case.id)).all()
        assert (verify.task_name, verify.agency_code, verify.lane) == ("verify", "th-amr", "enforcement")


def test_a_message_that_arrives_early_is_parked_and_redelivered(env: EngineEnv) -> None:
    env.deploy(build("waits_later", [
        UserTask("prepare", "准备"),
        Catch("wait", "ruling"),
        UserTask("act", "执行"),
    ], agency="'th-amr'"))
    instance_id = start(env, "waits_later", {"complaint_id": 7})
    with env.uow() as uow:
        assert env.runner.deliver(uow.session, "ruling", {"outcome": "upheld"}, None) == "parked"
        uow.commit()
    [prepare] = open_tasks(env, instance_id)
    complete(env, prepare.id, {})
    [act] = open_tasks(env, instance_id)
    assert act.task_name == "act"
    with env.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(PendingMessage)) == 0
        assert '"upheld"' in uow.session.get(ProcessInstance, instance_id).state


def test_a_boundary_timer_is_indexed_and_fires_on_the_injected_clock(env: EngineEnv) -> None:
    env.deploy(build("timed", [
        UserTask("mediate", "组织调解", boundary_timer='due("acceptance", received_at)'),
    ], agency="'th-amr'"))
    instance_id = start(env, "timed")
    with env.uow() as uow:
        [timer] = uow.session.scalars(select(PendingTimer)).all()
        assert timer.fire_at == datetime(2026, 11, 27, 23, 59, 59, tzinfo=SHANGHAI)
    env.clock.set(timer.fire_at - timedelta(seconds=1))
    with env.uow() as uow:
        assert env.runner.fire_timers(uow.session, instance_id).status == "running"
        uow.commit()
    env.clock.set(timer.fire_at + timedelta(seconds=1))
    with env.uow() as uow:
        record = env.runner.fire_timers(uow.session, instance_id)
        uow.commit()
    assert record.status == "completed"
    assert open_tasks(env, instance_id) == []
    with env.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(PendingTimer)) == 0
        assert '"timed_out":true' in uow.session.get(ProcessInstance, instance_id).state


def test_a_file_throwing_a_message_nobody_catches_is_refused(env: EngineEnv) -> None:
    from engine.errors import InvalidWorkflow

    with pytest.raises(InvalidWorkflow) as error:
        env.deploy(build("orphan", [Throw("tell", "nobody_listens", "{}")]))
    assert [(i.element_id, "nobody_listens" in i.message) for i in error.value.issues] == [("tell", True)]
