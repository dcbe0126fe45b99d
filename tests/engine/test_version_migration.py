"""Waiting instances move to a newer version only when safe; new instances use the deployed one."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.bpmn.scaffold import UserTask, build
from engine.db.tables import AuditEvent, ProcessInstance, SpecVersion
from engine.errors import Conflict
from engine.version_migration import apply, plan
from tests.engine.conftest import LIAISON, EngineEnv
from tests.engine.test_runner import complete, open_tasks, start

V1 = build("three", [UserTask("a", "登记"), UserTask("b", "审查"), UserTask("c", "办结")], agency="'th-amr'")
V2_RENAMED_LATER_STEP = build("three", [UserTask("a", "登记"), UserTask("b", "审查"), UserTask("c", "办结并回访")],
                              agency="'th-amr'")
V2_WITHOUT_B = build("three", [UserTask("a", "登记"), UserTask("c", "办结")], agency="'th-amr'")


def version_id(env: EngineEnv, number: int) -> int:
    with env.uow() as uow:
        return uow.session.scalar(select(SpecVersion.id).where(SpecVersion.key == "three",
                                                               SpecVersion.version == number))


def test_a_waiting_instance_moves_when_only_later_steps_changed(env: EngineEnv) -> None:
    env.deploy(V1)
    old = start(env, "three", {})
    complete(env, open_tasks(env, old)[0].id, {})  # now waiting at b
    env.deploy(V2_RENAMED_LATER_STEP)
    new = start(env, "three", {})
    v1, v2 = version_id(env, 1), version_id(env, 2)
    with env.uow() as uow:
        assert uow.session.get(ProcessInstance, new).spec_version_id == v2
        assert uow.session.get(ProcessInstance, old).spec_version_id == v1  # kept until moved
        report = plan(uow.session, env.runner, old, v2)
    assert (report.safe, report.changed_steps) == (True, ["c"])
    with env.uow() as uow:
        apply(uow.session, env.runner, old, v2, LIAISON)
        uow.commit()
    [b] = open_tasks(env, old)
    assert b.task_name == "b"
    complete(env, b.id, {})
    [c] = open_tasks(env, old)
    assert c.title == "办结并回访"  # the new version's step
    with env.uow() as uow:
        assert uow.session.get(ProcessInstance, old).spec_version_id == v2
        event = uow.session.scalar(select(AuditEvent).where(AuditEvent.action == "instance.migrated"))
        assert event.details["from_version"] == 1 and event.details["to_version"] == 2


def test_removing_the_step_an_instance_waits_at_is_refused(env: EngineEnv) -> None:
    env.deploy(V1)
    waiting = start(env, "three", {})
    complete(env, open_tasks(env, waiting)[0].id, {})  # at b
    env.deploy(V2_WITHOUT_B)
    v2 = version_id(env, 2)
    with env.uow() as uow:
        report = plan(uow.session, env.runner, waiting, v2)
    assert report.safe is False and any("step b" in r for r in report.reasons)
    with env.uow() as uow, pytest.raises(Conflict):
        apply(uow.session, env.runner, waiting, v2, LIAISON)
    assert [t.task_name for t in open_tasks(env, waiting)] == ["b"]  # untouched, still on v1
