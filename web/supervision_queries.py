"""Read models for the supervisor's pages (``web/pages/supervision.py``) and the notices page: an
agency's open work by person, the deadline rungs its overdue tasks have climbed, and the escalations
its supervisors received from the agencies under it.

Everything here reads the index tables (``open_tasks``, ``deadline_steps``), the audit log by task or
complaint, and the users' in-app notices by user: never a serialized workflow, and never a scan of a
whole table.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import Row, and_, case, func, select
from sqlalchemy.orm import Session

from agencies.tables import Agency, Complaint, ComplaintAgency, User
from engine.actors import Actor, LanePolicy
from engine.clock import SHANGHAI
from engine.db.tables import AuditEvent, DeadlineStep, OpenTask
from engine.deadlines.calendar import WorkdayCalendar
from engine.deadlines.ladder import Rung, fire_instant
from notifications.tables import InAppNotice, OutboxMessage

ESCALATION = "escalation"  # the ladder's rung that reaches the supervising agency's supervisors
APPROVAL_LANE = "supervisor"  # tasks only a supervisor may decide: 延期审批, 办案延期审批, 立案审批
STEP_KEY_PREFIX = "deadline-step:"  # the outbox key of a rung's notices (agencies.deadline_notices)


# ---------------------------------------------------------------- people and their work


@dataclass(frozen=True)
class Colleague:
    username: str
    display_name: str
    roles: frozenset[str]
    active: bool

    def actor(self, agency_code: str) -> Actor:
        return Actor(self.username, agency_code, self.roles)


def colleagues(session: Session, agency_id: int) -> list[Colleague]:
    """Every user of the agency (deactivated ones too: they may still hold tasks), by display name."""
    rows = session.execute(select(User.username, User.display_name, User.roles, User.active)
                           .where(User.agency_id == agency_id).order_by(User.display_name, User.username))
    return [Colleague(r.username, r.display_name, frozenset(r.roles or ()), bool(r.active)) for r in rows]


def who_may_work(people: Iterable[Colleague], agency_code: str, lane: str | None,
                 policy: LanePolicy) -> list[Colleague]:
    """The active colleagues a task of ``lane`` may be handed to: the policy the hand-over itself checks."""
    return [p for p in people if p.active and policy.may_work(p.actor(agency_code), lane)]


@dataclass
class Workload:
    """One person's open tasks (``assignee`` ``None``: the unclaimed ones)."""

    assignee: str | None
    open: int = 0
    overdue: int = 0
    due_soon: int = 0


def due_soon_before(now: datetime, reminder: Rung, calendar: WorkdayCalendar) -> datetime:
    """The instant before which a running deadline not yet passed is "due soon": its reminder would
    have gone out by ``now``. The reminder of a later last day never fires earlier, so the days that
    qualify are the ones up to a last such day; this is the start of the day after it."""
    day = now.astimezone(SHANGHAI).date()
    for _ in range(62):  # the longest run of rest days is far shorter
        following = day + timedelta(days=1)
        last_instant = datetime.combine(following, time(0, 0), SHANGHAI) - timedelta(seconds=1)
        if fire_instant(last_instant, reminder, calendar) > now:
            break
        day = following
    return datetime.combine(day + timedelta(days=1), time(0, 0), SHANGHAI)


def workload(session: Session, agency_code: str, now: datetime, soon_before: datetime) -> dict[str | None, Workload]:
    """Open, overdue and due-soon counts per assignee, in one grouped read of the agency's task index.
    A stopped clock (suspended task) is neither overdue nor due soon."""
    running = OpenTask.suspended_at.is_(None)
    overdue = and_(running, OpenTask.due_at < now)
    soon = and_(running, OpenTask.due_at >= now, OpenTask.due_at < soon_before)
    rows = session.execute(
        select(OpenTask.assignee, func.count(),
               func.coalesce(func.sum(case((overdue, 1), else_=0)), 0),
               func.coalesce(func.sum(case((soon, 1), else_=0)), 0))
        .where(OpenTask.agency_code == agency_code).group_by(OpenTask.assignee))
    return {row[0]: Workload(row[0], int(row[1]), int(row[2]), int(row[3])) for row in rows}


def extension_requests(session: Session, agency_code: str, limit: int = 200) -> list[Row[Any]]:
    """The agency's open tasks awaiting a supervisor's decision (extensions, filing), oldest first."""
    return list(session.execute(select(OpenTask.__table__).where(
        OpenTask.agency_code == agency_code, OpenTask.lane == APPROVAL_LANE)
        .order_by(OpenTask.created_at, OpenTask.id).limit(limit)))


# ---------------------------------------------------------------- rungs of overdue tasks


@dataclass(frozen=True)
class StepFired:
    step: str
    at: datetime
    recipients: tuple[str, ...] = ()


@dataclass
class TaskSteps:
    """The rungs of a task's current deadline: climbed already, and still to come."""

    fired: list[StepFired] = field(default_factory=list)
    pending: list[tuple[str, datetime]] = field(default_factory=list)


def deadline_steps(session: Session, tasks: Sequence[Row[Any]]) -> dict[str, TaskSteps]:
    """For each task of a page, the rungs of its current deadline: done ones with when (and who was
    told, from the audit event), a rung the sweep passed over (a reminder found only after the
    deadline) left out; and the undone ones with when they fire."""
    due = {t.id: t.due_at for t in tasks if t.due_at is not None}
    result = {task_id: TaskSteps() for task_id in due}
    if not due:
        return result
    steps = session.scalars(select(DeadlineStep).where(DeadlineStep.task_id.in_(due))
                            .order_by(DeadlineStep.fire_at, DeadlineStep.id)).all()
    events = session.execute(select(AuditEvent.task_id, AuditEvent.action, AuditEvent.details).where(
        AuditEvent.task_id.in_(due), AuditEvent.action.like("deadline.%")))
    told: dict[tuple[str, str, datetime], dict[str, Any]] = {}
    for event in events:
        details = event.details or {}
        try:
            at_due = datetime.fromisoformat(str(details.get("due_at")))
        except ValueError:
            continue
        told[(event.task_id or "", event.action.removeprefix("deadline."), at_due)] = details
    for step in steps:
        if step.due_at != due[step.task_id]:
            continue  # a rung of an earlier deadline (before an extension or a suspension moved it)
        entry = result[step.task_id]
        if step.done_at is None:
            entry.pending.append((step.step, step.fire_at))
            continue
        details = told.get((step.task_id, step.step, step.due_at), {})
        if details.get("skipped"):
            continue
        recipients = details.get("recipients")
        entry.fired.append(StepFired(step.step, step.done_at,
                                     tuple(str(r) for r in recipients) if isinstance(recipients, list) else ()))
    return result


def working_days_overdue(due_at: datetime, now: datetime, calendar: WorkdayCalendar) -> int:
    """Working days since the deadline's last day, today included when it is one."""
    return calendar.working_days_between(due_at.astimezone(SHANGHAI).date(), now.astimezone(SHANGHAI).date())


def display_names(session: Session, usernames: Collection[str]) -> dict[str, str]:
    if not usernames:
        return {}
    return {r.username: r.display_name for r in session.execute(
        select(User.username, User.display_name).where(User.username.in_(set(usernames))))}


# ---------------------------------------------------------------- escalations received


@dataclass(frozen=True)
class ReceivedEscalation:
    """An escalation (超期督办) the agency's supervisors received: a task of an agency under it still
    open three working days after its deadline."""

    received_at: datetime
    subject: str
    complaint_id: int | None
    task_id: str | None
    from_agency: str | None  # agency code of the task
    due_at: datetime | None
    recipients: tuple[str, ...]


def received_escalations(session: Session, agency_id: int, limit: int,
                         offset: int) -> tuple[list[ReceivedEscalation], int]:
    """The escalations this agency's users were told of, newest first, one per escalation however many
    supervisors heard of it: read from their in-app notices (by user), each matched to the audit event
    of its rung (by complaint) for the task and the agency it came from."""
    users = select(User.id).where(User.agency_id == agency_id).scalar_subquery()
    received = (select(OutboxMessage.key, func.min(InAppNotice.created_at).label("at"),
                       func.min(InAppNotice.subject).label("subject"),
                       func.min(InAppNotice.complaint_id).label("complaint_id"))
                .join(OutboxMessage, OutboxMessage.id == InAppNotice.outbox_id)
                .where(InAppNotice.user_id.in_(users), InAppNotice.template == ESCALATION)
                .group_by(OutboxMessage.key))
    total = session.scalar(select(func.count()).select_from(received.subquery())) or 0
    page = session.execute(received.order_by(func.min(InAppNotice.created_at).desc(), OutboxMessage.key.desc())
                           .limit(limit).offset(offset)).all()
    complaint_ids = {row.complaint_id for row in page if row.complaint_id is not None}
    events = session.execute(select(AuditEvent.complaint_id, AuditEvent.at, AuditEvent.task_id,
                                    AuditEvent.agency_code, AuditEvent.details).where(
        AuditEvent.complaint_id.in_(complaint_ids), AuditEvent.action == f"deadline.{ESCALATION}")).all() \
        if complaint_ids else []
    step_tasks = _tasks_of_steps(session, [row.key for row in page])
    found = []
    for row in page:
        candidates = [e for e in events if e.complaint_id == row.complaint_id and e.at == row.at
                      and not (e.details or {}).get("skipped")]
        # two tasks of one complaint escalated in the same sweep: the rung's row names the task while
        # it is open; once closed, the row is gone and either event tells the same story
        chosen = next((e for e in candidates if e.task_id == step_tasks.get(row.key)), None) or \
            (candidates[0] if candidates else None)
        details = (chosen.details or {}) if chosen is not None else {}
        try:
            due_at = datetime.fromisoformat(str(details["due_at"])).astimezone(SHANGHAI)
        except (KeyError, ValueError):
            due_at = None
        recipients = details.get("recipients")
        found.append(ReceivedEscalation(
            row.at, row.subject, row.complaint_id, chosen.task_id if chosen is not None else None,
            chosen.agency_code if chosen is not None else None, due_at,
            tuple(str(r) for r in recipients) if isinstance(recipients, list) else ()))
    return found, total


def _tasks_of_steps(session: Session, keys: Iterable[str]) -> dict[str, str]:
    ids = {int(key.removeprefix(STEP_KEY_PREFIX)): key for key in keys
           if key.startswith(STEP_KEY_PREFIX) and key.removeprefix(STEP_KEY_PREFIX).isdigit()}
    if not ids:
        return {}
    return {ids[row.id]: row.task_id for row in session.execute(
        select(DeadlineStep.id, DeadlineStep.task_id).where(DeadlineStep.id.in_(ids)))}


def open_tasks(session: Session, task_ids: Collection[str]) -> dict[str, Row[Any]]:
    if not task_ids:
        return {}
    return {row.id: row for row in session.execute(select(OpenTask.__table__).where(OpenTask.id.in_(set(task_ids))))}


def agency_names(session: Session, codes: Collection[str]) -> dict[str, str]:
    if not codes:
        return {}
    return {row.code: row.name for row in session.execute(
        select(Agency.code, Agency.name).where(Agency.code.in_(set(codes))))}


@dataclass(frozen=True)
class ComplaintRef:
    tracking_no: str
    subject: str
    visible: bool  # the viewing agency is involved, so the complaint's page opens for its staff


def complaint_refs(session: Session, complaint_ids: Collection[int], agency_id: int) -> dict[int, ComplaintRef]:
    """Tracking number and subject (no personal data) of these complaints, and whether the viewing agency
    may open each: a supervising agency hears of a subordinate's overdue task without being involved."""
    if not complaint_ids:
        return {}
    ids = set(complaint_ids)
    involved = set(session.scalars(select(ComplaintAgency.complaint_id).where(
        ComplaintAgency.agency_id == agency_id, ComplaintAgency.complaint_id.in_(ids))))
    return {row.id: ComplaintRef(row.tracking_no, row.subject, row.id in involved) for row in session.execute(
        select(Complaint.id, Complaint.tracking_no, Complaint.subject).where(Complaint.id.in_(ids)))}


# ---------------------------------------------------------------- notices


def notice_counts(session: Session, user_id: int) -> tuple[int, int]:
    """(all, unread) in-app notices of the user: one read of the user's index range."""
    row = session.execute(select(func.count(), func.coalesce(func.sum(case((InAppNotice.read_at.is_(None), 1),
                                                                           else_=0)), 0))
                          .where(InAppNotice.user_id == user_id)).one()
    return int(row[0]), int(row[1])
