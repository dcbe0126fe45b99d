"""Engine fixtures: a runner over a real database, with a recording stand-in for the product hooks and
the product's own lane policy (the rule the engine's task rights are tested against)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from agencies.roles import AgencyLanePolicy
from engine.actors import LanePolicy
from engine.clock import SHANGHAI, FixedClock
from engine.deadlines.ladder import Ladders
from engine.deadlines.service import DeadlineService
from engine.runner import Actor, InstanceRecord, OpenedTask, Runner, TransitionContext
from engine.specs import SpecCache, deploy, upload
from engine.uow import UnitOfWork


@dataclass
class RecordingServices:
    clock: FixedClock
    deadlines: DeadlineService
    notices: list[tuple[str, dict[str, Any]]]
    cases: list[str]

    def now(self) -> datetime:
        return self.clock.now()

    def due(self, rule: str, start: Any, received_at: Any) -> datetime:
        return self.deadlines.due(rule, start, received_at).due_at

    def notify_complainant(self, template: str, context: Any) -> None:
        self.notices.append((template, dict(context)))

    def notify_business(self, template: str, context: Any) -> None:
        self.notices.append((f"business:{template}", dict(context)))

    def file_case(self, data: Any) -> str:
        self.cases.append(f"CASE-{len(self.cases) + 1}")
        return self.cases[-1]

    def close_case(self, data: Any, decision: str) -> None:
        self.notices.append(("case_closed", {"decision": decision}))


@dataclass
class RecordingHooks:
    """Test double for the product hooks: remembers what the workflow asked the product to do."""

    clock: FixedClock
    deadlines: DeadlineService
    notices: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    cases: list[str] = field(default_factory=list)

    def script_services(self, ctx: TransitionContext, instance: InstanceRecord) -> RecordingServices:
        return RecordingServices(self.clock, self.deadlines, self.notices, self.cases)

    def after_transition(self, ctx: TransitionContext, instance: InstanceRecord, workflow: Any,
                         opened: list[OpenedTask]) -> None:
        return None

    def agency_kind(self, session: Any, agency_code: str | None) -> str | None:
        return "market_regulator" if agency_code and agency_code.endswith("-amr") else None


@dataclass
class AfterLoadHooks(RecordingHooks):
    """Calls ``after_load`` once a transition has read its task and instance, before it runs: a test
    holds it there (a barrier, an event) to let another transaction interleave."""

    after_load: Callable[[], object] = lambda: None

    def script_services(self, ctx: TransitionContext, instance: InstanceRecord) -> RecordingServices:
        self.after_load()
        return super().script_services(ctx, instance)


@dataclass
class EngineEnv:
    session_factory: sessionmaker[Session]
    clock: FixedClock
    hooks: RecordingHooks
    runner: Runner

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.session_factory)

    def deploy(self, xml: str, actor: str = "admin") -> int:
        with self.uow() as uow:
            version = upload(uow.session, xml, filename="test.bpmn", actor=actor, now=self.clock.now(),
                             known_rules=self.runner.deadlines.rule_names()).version
            deploy(uow.session, version.key, version.version, actor=actor, now=self.clock.now())
            uow.commit()
            return version.id

    def restarted(self) -> EngineEnv:
        """Fresh engine objects over the same database, as after a process restart."""
        hooks = RecordingHooks(self.clock, DeadlineService())
        return EngineEnv(self.session_factory, self.clock, hooks, make_runner(self.clock, hooks))


def make_runner(clock: FixedClock, hooks: RecordingHooks, deadlines: DeadlineService | None = None,
                lanes: LanePolicy | None = None, ladders: Ladders | None = None) -> Runner:
    """A runner with its own spec cache, as each server process has; the product's lane policy unless
    another is given."""
    return Runner(clock, SpecCache(), deadlines or DeadlineService(), hooks, lanes or AgencyLanePolicy(), ladders)


@pytest.fixture
def env(session_factory: sessionmaker[Session]) -> EngineEnv:
    clock = FixedClock(datetime(2026, 11, 18, 10, 0, tzinfo=SHANGHAI))
    deadlines = DeadlineService()
    hooks = RecordingHooks(clock, deadlines)
    return EngineEnv(session_factory, clock, hooks, make_runner(clock, hooks, deadlines))


LIAISON = Actor("th-amr.liaison", "th-amr", frozenset({"liaison", "enforcement"}))
SUPERVISOR = Actor("th-amr.supervisor", "th-amr", frozenset({"supervisor"}))
OTHER_AGENCY = Actor("lq-amr.liaison", "lq-amr", frozenset({"liaison"}))
