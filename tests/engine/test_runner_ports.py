"""What the runner takes from the product instead of knowing it: the lane rule and the ladder per agency
kind; and the display read of a task, which loads what it shows once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import event, select

from engine import runner as runner_module
from engine.actors import Actor
from engine.clock import SHANGHAI
from engine.db.tables import DeadlineStep
from engine.deadlines.config import recompute_provisional, reload, set_calendar_year
from engine.deadlines.ladder import Ladders, Rung
from engine.deadlines.suspension import resume, suspend
from engine.errors import Conflict, Forbidden, NotFound
from tests.deadlines.calendars import OVERRIDE_2027
from tests.engine.conftest import LIAISON, OTHER_AGENCY, SUPERVISOR, EngineEnv, make_runner
from tests.engine.test_runner import TWO_STEPS, complete, open_tasks, start

ENFORCER = Actor("th-amr.enforcer", "th-amr", frozenset({"enforcement"}))


class EveryLaneNoOversight:
    """A product whose users all work every lane, and where nobody acts on a colleague's task."""

    def may_work(self, actor: Actor, lane: str | None) -> bool:
        return True

    def acts_for_others(self, actor: Actor) -> bool:
        return False


def with_runner(env: EngineEnv, **kwargs: Any) -> EngineEnv:
    return EngineEnv(env.session_factory, env.clock, env.hooks, make_runner(env.clock, env.hooks, **kwargs))


def test_who_works_a_lane_and_who_acts_for_others_is_the_policy_the_runner_is_given(env: EngineEnv) -> None:
    env.deploy(TWO_STEPS)
    [review] = open_tasks(env, start(env, "two_steps"))
    with env.uow() as uow, pytest.raises(Forbidden):  # the agencies' rule: the liaison lane needs a liaison
        env.runner.tasks.claim(uow.session, review.id, ENFORCER)
    other = with_runner(env, lanes=EveryLaneNoOversight())
    with other.uow() as uow:
        other.runner.tasks.claim(uow.session, review.id, ENFORCER)
        uow.commit()
    with other.uow() as uow, pytest.raises(Forbidden):  # no supervisor may take it away under this policy
        other.runner.tasks.release(uow.session, review.id, SUPERVISOR)
    with env.uow() as uow:  # under the agencies' rule a supervisor may
        env.runner.tasks.release(uow.session, review.id, SUPERVISOR)
        uow.commit()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def rungs(env: EngineEnv, task_id: str) -> dict[str, datetime]:
    with env.uow() as uow:
        return {s.step: s.fire_at for s in uow.session.scalars(
            select(DeadlineStep).where(DeadlineStep.task_id == task_id, DeadlineStep.done_at.is_(None)))}


def test_a_task_climbs_its_agency_kinds_ladder_when_opened_resumed_and_recomputed(env: EngineEnv) -> None:
    """The test hooks call agencies ending in ``-amr`` market regulators; others have no known kind."""
    env = with_runner(env, ladders=Ladders(by_kind={"market_regulator": (Rung("overdue", 0),)}))
    env.deploy(TWO_STEPS)
    received = "2026-12-28T10:00:00+08:00"  # the deadline falls in 2027, provisional until the year is entered
    [regulated] = open_tasks(env, start(env, "two_steps", {"competent_agency": "th-amr", "received_at": received}))
    [other] = open_tasks(env, start(env, "two_steps", {"competent_agency": "th-cca", "received_at": received}))
    assert rungs(env, regulated.id) == {"overdue": at("2027-01-08T00:00:00")}
    assert set(rungs(env, other.id)) == {"reminder", "overdue", "escalation"}  # the default ladder
    for step in (suspend, resume):
        with env.uow() as uow:
            step(uow.session, env.runner, regulated.id, LIAISON, "送检")
            uow.commit()
    assert rungs(env, regulated.id) == {"overdue": at("2027-01-08T00:00:00")}
    with env.uow() as uow:
        set_calendar_year(uow.session, 2027, OVERRIDE_2027.holidays, OVERRIDE_2027.workdays, actor="admin",
                          now=env.clock.now())
        reload(uow.session, env.runner.deadlines)
        assert recompute_provisional(uow.session, env.runner)["tasks"] == 2
        uow.commit()
    assert rungs(env, regulated.id) == {"overdue": at("2027-01-09T00:00:00")}  # moved, still its kind's ladder
    assert set(rungs(env, other.id)) == {"reminder", "overdue", "escalation"}


@contextmanager
def counted(env: EngineEnv, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, int]]:
    """Counts SQL statements and workflow restores (the real ``load_state``, counted on the way through)."""
    counts = {"statements": 0, "restores": 0}
    real_load_state = runner_module.load_state

    def counting_load_state(*args: Any) -> Any:
        counts["restores"] += 1
        return real_load_state(*args)

    def on_statement(*_args: Any) -> None:
        counts["statements"] += 1

    bind = env.session_factory.kw["bind"]
    monkeypatch.setattr(runner_module, "load_state", counting_load_state)
    event.listen(bind, "before_cursor_execute", on_statement)
    try:
        yield counts
    finally:
        event.remove(bind, "before_cursor_execute", on_statement)


def test_reading_a_task_for_display_is_one_statement_and_one_restore(env: EngineEnv,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    env.deploy(TWO_STEPS)
    [review] = open_tasks(env, start(env, "two_steps"))
    with env.uow() as uow:
        env.runner.task_view(uow.session, review.id, LIAISON)  # the spec version is cached from here on
        with counted(env, monkeypatch) as counts:
            view = env.runner.task_view(uow.session, review.id, LIAISON)
    assert counts == {"statements": 1, "restores": 1}
    assert (view.task.id, view.task.task_name, view.task.agency_code) == (review.id, "review", "th-amr")
    assert view.definition is not None and view.definition.form is not None
    assert view.data["competent_agency"] == "th-amr"
    with env.uow() as uow, pytest.raises(NotFound):  # another agency's task looks like a missing one
        env.runner.task_view(uow.session, review.id, OTHER_AGENCY)
    complete(env, review.id, {"decision": "accept"})
    with env.uow() as uow, pytest.raises(Conflict):  # its own agency learns it was completed
        env.runner.task_view(uow.session, review.id, LIAISON)
