"""The deadline sweep: fire the BPMN timers that are due, each instance in its own transaction.

Only the ``pending_timers`` index is read to find work, so instances that are not due are never
loaded. On PostgreSQL due rows are claimed with ``FOR UPDATE SKIP LOCKED``: several server processes
share the work and a timer fires once; the instance version check backs this up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engine.db.dialect import skip_locked
from engine.db.tables import PendingTimer
from engine.errors import Conflict, EngineError
from engine.runner import Runner
from engine.uow import UnitOfWork


@dataclass
class SweepReport:
    timers_fired: int = 0
    conflicts: int = 0
    errors: list[str] = field(default_factory=list)


def fire_due_timers(session_factory: sessionmaker[Session], runner: Runner, now: datetime,
                    limit: int = 500) -> SweepReport:
    report = SweepReport()
    with UnitOfWork(session_factory) as uow:
        due = uow.session.scalars(
            select(PendingTimer.instance_id).where(PendingTimer.fire_at < now)
            .order_by(PendingTimer.fire_at).limit(limit)).all()
    for instance_id in dict.fromkeys(due):  # once per instance, oldest timer first
        with UnitOfWork(session_factory) as uow:
            claimed = uow.session.scalars(skip_locked(uow.session, (
                select(PendingTimer.id).where(PendingTimer.instance_id == instance_id, PendingTimer.fire_at < now)
            ))).all()
            if not claimed:
                continue  # another process has it
            try:
                runner.fire_timers(uow.session, instance_id)
                uow.commit()
                report.timers_fired += len(claimed)
            except Conflict:
                report.conflicts += 1
            except EngineError as exc:
                report.errors.append(f"instance {instance_id}: {exc}")
    return report
