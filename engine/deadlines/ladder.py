"""The escalation ladder (DESIGN §2.2): remind before a deadline, mark overdue at it, escalate after.

Each rung of each task deadline is a row in ``deadline_steps``, written with the task (and rewritten
when its deadline moves). The sweep claims due rows with ``FOR UPDATE SKIP LOCKED`` and marks them
done in the same transaction as the notices and audit events it writes: each step happens once,
however many server processes sweep, and a sweep after downtime catches up in ``fire_at`` order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Protocol

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from engine import audit
from engine.clock import SHANGHAI
from engine.db.dialect import skip_locked
from engine.db.tables import DeadlineStep, OpenTask
from engine.deadlines.calendar import WorkdayCalendar
from engine.uow import UnitOfWork


@dataclass(frozen=True)
class Rung:
    """``step`` fires ``offset`` working days from the due date (negative: before it)."""

    step: str
    offset: int


DEFAULT_LADDER: tuple[Rung, ...] = (Rung("reminder", -2), Rung("overdue", 0), Rung("escalation", 3))


@dataclass(frozen=True)
class Ladders:
    """The ladder per agency kind (configurable); kinds not listed use the default."""

    default: tuple[Rung, ...] = DEFAULT_LADDER
    by_kind: Mapping[str, tuple[Rung, ...]] = field(default_factory=dict)

    def for_kind(self, kind: str | None) -> tuple[Rung, ...]:
        return self.by_kind.get(kind or "", self.default)


def fire_instant(due_at: datetime, rung: Rung, calendar: WorkdayCalendar) -> datetime:
    """When a rung fires: ``overdue`` right after the deadline's last instant; the others at the
    start (00:00 Asia/Shanghai) of the working day ``offset`` working days from the last day."""
    if rung.offset == 0:
        return due_at + timedelta(seconds=1)
    last_day = due_at.astimezone(SHANGHAI).date()
    day = _shift_workdays(last_day, rung.offset, calendar)
    return datetime.combine(day, time(0, 0), SHANGHAI)


def _shift_workdays(day: date, offset: int, calendar: WorkdayCalendar) -> date:
    if offset > 0:
        return calendar.add_workdays(day, offset)[0]
    remaining = -offset
    while remaining:
        day -= timedelta(days=1)
        if calendar.is_workday(day):
            remaining -= 1
    return day


def step_rows(task_id: str, instance_id: int, due_at: datetime, ladder: Iterable[Rung],
              calendar: WorkdayCalendar) -> list[dict[str, object]]:
    return [{"task_id": task_id, "instance_id": instance_id, "step": rung.step, "due_at": due_at,
             "fire_at": fire_instant(due_at, rung, calendar), "done_at": None} for rung in ladder]


def replace_steps(session: Session, task_id: str, instance_id: int, due_at: datetime | None,
                  ladder: Iterable[Rung], calendar: WorkdayCalendar) -> None:
    """A task's deadline changed (suspension, resumption, a calendar year added): undone rungs
    follow it. Done rungs of the old deadline stay as they are."""
    session.execute(delete(DeadlineStep).where(DeadlineStep.task_id == task_id, DeadlineStep.done_at.is_(None)))
    if due_at is not None:
        rows = step_rows(task_id, instance_id, due_at, ladder, calendar)
        existing = set(session.scalars(select(DeadlineStep.step).where(
            DeadlineStep.task_id == task_id, DeadlineStep.due_at == due_at)))
        rows = [r for r in rows if r["step"] not in existing]
        if rows:
            session.execute(insert(DeadlineStep), rows)


class StepHandler(Protocol):
    """The product's side of a rung: who is told what."""

    def handle(self, session: Session, step: DeadlineStep, task: OpenTask, now: datetime) -> dict[str, object]: ...


@dataclass
class EscalationReport:
    handled: int = 0
    skipped: int = 0
    by_step: dict[str, int] = field(default_factory=dict)


def sweep_steps(session_factory: sessionmaker[Session], handler: StepHandler, now: datetime,
                batch: int = 200, worker: str = "sweep") -> EscalationReport:
    """Handle every rung due by ``now``, oldest first, in batches of one transaction each."""
    report = EscalationReport()
    while True:
        with UnitOfWork(session_factory) as uow:
            session = uow.session
            steps = session.scalars(skip_locked(session, (
                select(DeadlineStep).where(DeadlineStep.done_at.is_(None), DeadlineStep.fire_at <= now)
                .order_by(DeadlineStep.fire_at, DeadlineStep.id).limit(batch)))).all()
            if not steps:
                return report
            tasks = {t.id: t for t in session.scalars(
                select(OpenTask).where(OpenTask.id.in_({s.task_id for s in steps})))}
            audits: list[audit.AuditRow] = []
            for step in steps:
                task = tasks.get(step.task_id)
                if task is None or task.suspended_at is not None or task.due_at != step.due_at:
                    report.skipped += 1  # the task is gone, paused, or its deadline moved
                    details: dict[str, object] = {"skipped": True}
                else:
                    details = handler.handle(session, step, task, now)
                    report.handled += 1
                    report.by_step[step.step] = report.by_step.get(step.step, 0) + 1
                audits.append(audit.row(actor=worker, action=f"deadline.{step.step}", at=now,
                                        agency_code=task.agency_code if task else None,
                                        instance_id=step.instance_id, task_id=step.task_id,
                                        complaint_id=task.complaint_id if task else None,
                                        details={"due_at": step.due_at.isoformat(), **details}))
            session.execute(update(DeadlineStep).where(DeadlineStep.id.in_([s.id for s in steps]))
                            .values(done_at=now))
            audit.record_all(session, audits)
            uow.commit()
