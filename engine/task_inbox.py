"""The task inbox: an agency's open tasks, ordered by deadline, read from the task index alone.

An inbox lists only tasks its reader may work: a liaison does not see the supervisor's extension
approvals, only to be refused when opening one. Which lanes that is comes from the product's
``LanePolicy`` (``workable_lanes``); someone who acts for colleagues (a supervisor) sees every task
of the agency, since they answer for all of its open work.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, Row, Select, func, nulls_last, select
from sqlalchemy.orm import Session

from engine.actors import Actor, LanePolicy
from engine.bpmn.validation import ROLES as LANES
from engine.db.tables import OpenTask

AssigneeFilter = Literal["me", "unassigned"] | None
_TASKS = OpenTask.__table__


@dataclass(frozen=True)
class InboxQuery:
    agency_code: str
    username: str | None = None
    assignee: AssigneeFilter = None
    overdue: bool | None = None
    complaint_id: int | None = None
    lanes: frozenset[str] | None = None  # None: every lane (and tasks outside any lane)
    limit: int = 50
    offset: int = 0


def workable_lanes(policy: LanePolicy, actor: Actor) -> frozenset[str] | None:
    """The lanes of the tasks ``actor``'s inbox lists: ``None`` (all of them) for someone who may act
    on colleagues' tasks, else those of the lanes a human task may sit in (the roles BPMN validation
    allows) that the policy lets the actor work."""
    if policy.acts_for_others(actor):
        return None
    return frozenset(lane for lane in LANES if policy.may_work(actor, lane))


def _conditions(query: InboxQuery, now: datetime) -> list[ColumnElement[bool]]:
    conditions = [OpenTask.agency_code == query.agency_code]
    if query.assignee == "me":
        conditions.append(OpenTask.assignee == query.username)
    elif query.assignee == "unassigned":
        conditions.append(OpenTask.assignee.is_(None))
    if query.overdue is True:
        conditions += [OpenTask.due_at < now, OpenTask.suspended_at.is_(None)]
    elif query.overdue is False:
        conditions.append((OpenTask.due_at.is_(None)) | (OpenTask.due_at >= now))
    if query.complaint_id is not None:
        conditions.append(OpenTask.complaint_id == query.complaint_id)
    if query.lanes is not None:
        # not part of the order: checked on the entries of the order's index, which carries the lane
        # last, so the page still stops after its length and the total is counted from the index alone
        lanes = sorted(query.lanes)
        conditions.append(OpenTask.lane == lanes[0] if len(lanes) == 1 else OpenTask.lane.in_(lanes))
    return conditions


def inbox_statement(query: InboxQuery, now: datetime) -> Select[Any]:
    """Tasks due first; tasks without a deadline last; ties by age. Read in the order of
    ix_open_tasks_agency_order, or of ix_open_tasks_agency_assignee_order for one assignee (both end
    with the lane, for a reader's lanes).
    Plain rows, not ORM objects: a page is read for display only, and building 50 objects cost
    more than the query."""
    return (select(_TASKS).where(*_conditions(query, now))
            .order_by(nulls_last(OpenTask.due_at.asc()), OpenTask.created_at, OpenTask.id)
            .limit(query.limit).offset(query.offset))


def inbox(session: Session, query: InboxQuery, now: datetime) -> list[Row[Any]]:
    """One page of the inbox: rows with the columns of ``open_tasks``."""
    return list(session.execute(inbox_statement(query, now)))


def count_statement(query: InboxQuery, now: datetime) -> Select[Any]:
    """How many tasks the query finds, whatever its page: counted on the index the page is read from."""
    return select(func.count()).select_from(_TASKS).where(*_conditions(query, now))


def inbox_count(session: Session, query: InboxQuery, now: datetime) -> int:
    return session.scalar(count_statement(query, now)) or 0


def inbox_page(session: Session, query: InboxQuery, now: datetime) -> tuple[list[Row[Any]], int]:
    """A page and the total; a page that ends short of the limit tells the total without counting."""
    rows = inbox(session, query, now)
    if len(rows) < query.limit and (rows or query.offset == 0):
        return rows, query.offset + len(rows)
    return rows, inbox_count(session, query, now)
