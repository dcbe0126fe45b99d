"""Composition root: build the product's objects once, from settings, and pass them down."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from agencies.workflow_hooks import ProductHooks
from complaintflow.settings import Settings, get_settings
from engine.clock import Clock, SystemClock
from engine.db.session import make_engine, make_session_factory
from engine.deadlines import DeadlineService
from engine.runner import Runner
from engine.specs import SpecCache
from engine.uow import UnitOfWork


@dataclass
class Product:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    clock: Clock
    deadlines: DeadlineService
    runner: Runner
    specs: SpecCache = field(default_factory=SpecCache)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.session_factory)

    def close(self) -> None:
        self.engine.dispose()


def build_product(settings: Settings | None = None, clock: Clock | None = None) -> Product:
    settings = settings or get_settings()
    clock = clock or SystemClock()
    engine = make_engine(settings.database_url)
    deadlines = DeadlineService()
    specs = SpecCache()
    runner = Runner(clock, specs, deadlines, ProductHooks(clock, deadlines))
    return Product(settings, engine, make_session_factory(engine), clock, deadlines, runner, specs)
