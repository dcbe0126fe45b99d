"""The escalation ladder: remind before a deadline, mark overdue at it, escalate after.

The default rungs (configurable per agency kind): a reminder 2 working days before the last day
(to the assignee, or the agency's liaisons while unclaimed), overdue at the deadline (assignee and
the agency's supervisors), escalation 3 working days after it (the parent agency's supervisors).

Each rung of each task deadline is a row in ``deadline_steps``, written with the task (and rewritten
when its deadline moves). The sweep claims due rows with ``FOR UPDATE SKIP LOCKED`` and marks them
done in the same transaction as the notices and audit events it writes: each step happens once,
however many server processes sweep, and a sweep after downtime catches up in ``fire_at`` order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
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
from engine.deadlines.service import DeadlineService
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
    """When a rung fires: ``overdue`` right after the deadline's last instant; a rung before the
    deadline at the start (00:00 Asia/Shanghai) of the working day ``offset`` working days before the
    last day; a rung after it once the ``offset``-th working day after the last day has ended (24:00),
    so a task due Friday 2026-11-27 escalates 3 working days later at 2026-12-03T00:00+08:00."""
    if rung.offset == 0:
        return due_at + timedelta(seconds=1)
    last_day = due_at.astimezone(SHANGHAI).date()
    day = _shift_workdays(last_day, rung.offset, calendar)
    if rung.offset > 0:
        day += timedelta(days=1)  # the end of that working day
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


AgencyKindOf = Callable[[Session, str | None], str | None]
"""The kind of the agency with this code (``None``: unknown or no agency), as the product knows it."""


class LadderTask(Protocol):
    """What placing a task's rungs reads of it: an open task row or a task a transition just opened."""

    @property
    def id(self) -> str: ...

    @property
    def instance_id(self) -> int: ...

    @property
    def agency_code(self) -> str | None: ...

    @property
    def due_at(self) -> datetime | None: ...


class Escalation:
    """Places the rungs of task deadlines: the one place that picks a task's ladder.

    The calendar is read from the deadline service on each call, since entering a calendar year
    refreshes that service in place."""

    def __init__(self, ladders: Ladders, agency_kind: AgencyKindOf, deadlines: DeadlineService) -> None:
        self.ladders = ladders
        self.agency_kind = agency_kind
        self.deadlines = deadlines

    def ladder_for(self, session: Session, task: LadderTask) -> tuple[Rung, ...]:
        """The rungs ``task`` climbs: the ladder of its agency's kind, or the default one."""
        return self.ladders.for_kind(self.agency_kind(session, task.agency_code))

    def rows_for(self, session: Session, tasks: Iterable[LadderTask]) -> list[dict[str, object]]:
        """The ``deadline_steps`` rows of newly opened tasks (those with a deadline)."""
        calendar = self.deadlines.calendar
        return [step for task in tasks if task.due_at is not None
                for step in _step_rows(task.id, task.instance_id, task.due_at, self.ladder_for(session, task),
                                       calendar)]

    def reschedule(self, session: Session, task: LadderTask) -> None:
        """The task's deadline moved (resumption, a calendar year entered): its undone rungs follow."""
        ladder = self.ladder_for(session, task) if task.due_at is not None else ()
        _replace_steps(session, task.id, task.instance_id, task.due_at, ladder, self.deadlines.calendar)

    def stop(self, session: Session, task: LadderTask) -> None:
        """The task's clock stopped: no undone rung may fire until it is rescheduled."""
        _replace_steps(session, task.id, task.instance_id, None, (), self.deadlines.calendar)


def _step_rows(task_id: str, instance_id: int, due_at: datetime, ladder: Iterable[Rung],
               calendar: WorkdayCalendar) -> list[dict[str, object]]:
    return [{"task_id": task_id, "instance_id": instance_id, "step": rung.step, "due_at": due_at,
             "fire_at": fire_instant(due_at, rung, calendar), "done_at": None} for rung in ladder]


def _replace_steps(session: Session, task_id: str, instance_id: int, due_at: datetime | None,
                   ladder: Iterable[Rung], calendar: WorkdayCalendar) -> None:
    """Undone rungs follow a changed deadline; done rungs of the old deadline stay as they are."""
    session.execute(delete(DeadlineStep).where(DeadlineStep.task_id == task_id, DeadlineStep.done_at.is_(None)))
    if due_at is not None:
        rows = _step_rows(task_id, instance_id, due_at, ladder, calendar)
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
                elif step.fire_at < step.due_at < now:
                    # a rung meant for before the deadline (a reminder) found late, after downtime:
                    # the deadline has passed, so it would remind of nothing still to be met
                    report.skipped += 1
                    details = {"skipped": True, "reason": "deadline_passed"}
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
