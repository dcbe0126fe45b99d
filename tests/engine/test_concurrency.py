"""Two transitions of one instance at once: exactly one wins, the other gets a clear conflict."""

from __future__ import annotations

import threading
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from engine.clock import SHANGHAI, FixedClock
from engine.db.tables import AuditEvent, OpenTask, ProcessInstance
from engine.deadlines.service import DeadlineService
from engine.errors import Conflict
from engine.runner import Runner
from tests.engine.conftest import LIAISON, AfterLoadHooks, EngineEnv, RecordingHooks, make_runner
from tests.engine.test_runner import TWO_STEPS, open_tasks, start


def race(env: EngineEnv, task_id: str, runners: list[Runner]) -> list[str]:
    barrier = threading.Barrier(len(runners))
    outcomes: list[str] = []

    def attempt(runner: Runner) -> None:
        barrier.wait()
        try:
            with env.uow() as uow:
                runner.complete_task(uow.session, task_id, {"decision": "accept"}, LIAISON)
                uow.commit()
            outcomes.append("won")
        except Conflict as exc:
            outcomes.append(f"conflict: {exc}")

    threads = [threading.Thread(target=attempt, args=(r,)) for r in runners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return outcomes


def test_two_threads_completing_one_task_one_wins(env: EngineEnv) -> None:
    env.deploy(TWO_STEPS)
    for _round in range(5):
        instance_id = start(env, "two_steps")
        [review] = open_tasks(env, instance_id)
        outcomes = race(env, review.id, [env.runner, env.restarted().runner])
        assert sorted(o.split(":")[0] for o in outcomes) == ["conflict", "won"]
        with env.uow() as uow:
            assert uow.session.get(ProcessInstance, instance_id).version == 2
            completed = uow.session.scalar(select(func.count()).select_from(AuditEvent).where(
                AuditEvent.instance_id == instance_id, AuditEvent.action == "task.completed"))
            assert completed == 1
        assert [t.task_name for t in open_tasks(env, instance_id)] == ["close"]


def test_two_postgresql_connections_read_the_same_version_and_one_update_loses(
        pg_session_factory: sessionmaker[Session]) -> None:
    clock = FixedClock(datetime(2026, 11, 18, 10, 0, tzinfo=SHANGHAI))
    plain = RecordingHooks(clock, DeadlineService())
    env = EngineEnv(pg_session_factory, clock, plain, make_runner(clock, plain))
    env.deploy(TWO_STEPS)
    instance_id = start(env, "two_steps")
    [review] = open_tasks(env, instance_id)
    barrier = threading.Barrier(2)  # each transition waits after its read, so both read the same version
    pause = AfterLoadHooks(clock, DeadlineService(), after_load=lambda: barrier.wait(10))
    runners = [make_runner(clock, pause) for _ in range(2)]
    outcomes = race(env, review.id, runners)
    assert sorted(o.split(":")[0] for o in outcomes) == ["conflict", "won"]
    assert any("changed by someone else" in o for o in outcomes)  # the version check, not the READY check
    with env.uow() as uow:
        assert uow.session.get(ProcessInstance, instance_id).version == 2
        assert uow.session.scalar(select(func.count()).select_from(OpenTask)) == 1
