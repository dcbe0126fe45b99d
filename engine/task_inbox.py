"""The task inbox: an agency's open tasks, ordered by deadline, read from the task index alone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, Row, Select, func, nulls_last, select
from sqlalchemy.orm import Session

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
    limit: int = 50
    offset: int = 0


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
    return conditions


def inbox_statement(query: InboxQuery, now: datetime) -> Select[Any]:
    """Tasks due first; tasks without a deadline last; ties by age. Read in the order of
    ix_open_tasks_agency_order, or of ix_open_tasks_agency_assignee_order for one assignee.
    Plain rows, not ORM objects: a page is read for display only, and building 50 objects cost
    more than the query."""
    return (select(_TASKS).where(*_conditions(query, now))
            .order_by(nulls_last(OpenTask.due_at.asc()), OpenTask.created_at, OpenTask.id)
            .limit(query.limit).offset(query.offset))


def inbox(session: Session, query: InboxQuery, now: datetime) -> list[Row[Any]]:
    """One page of the inbox: rows with the columns of ``open_tasks``."""
    return list(session.execute(inbox_statement(query, now)))


def inbox_count(session: Session, query: InboxQuery, now: datetime) -> int:
    statement = select(func.count()).select_from(_TASKS).where(*_conditions(query, now))
    return session.scalar(statement) or 0


def inbox_page(session: Session, query: InboxQuery, now: datetime) -> tuple[list[Row[Any]], int]:
    """A page and the total; a page that ends short of the limit tells the total without counting."""
    rows = inbox(session, query, now)
    if len(rows) < query.limit and (rows or query.offset == 0):
        return rows, query.offset + len(rows)
    return rows, inbox_count(session, query, now)
