"""The task inbox: an agency's open tasks, ordered by deadline, read from the task index alone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import Select, func, nulls_last, select
from sqlalchemy.orm import Session

from engine.db.tables import OpenTask

AssigneeFilter = Literal["me", "unassigned"] | None


@dataclass(frozen=True)
class InboxQuery:
    agency_code: str
    username: str | None = None
    assignee: AssigneeFilter = None
    overdue: bool | None = None
    complaint_id: int | None = None
    limit: int = 50
    offset: int = 0


def _filtered(query: InboxQuery, now: datetime) -> Select[tuple[OpenTask]]:
    statement = select(OpenTask).where(OpenTask.agency_code == query.agency_code)
    if query.assignee == "me":
        statement = statement.where(OpenTask.assignee == query.username)
    elif query.assignee == "unassigned":
        statement = statement.where(OpenTask.assignee.is_(None))
    if query.overdue is True:
        statement = statement.where(OpenTask.due_at < now, OpenTask.suspended_at.is_(None))
    elif query.overdue is False:
        statement = statement.where((OpenTask.due_at.is_(None)) | (OpenTask.due_at >= now))
    if query.complaint_id is not None:
        statement = statement.where(OpenTask.complaint_id == query.complaint_id)
    return statement


def inbox(session: Session, query: InboxQuery, now: datetime) -> list[OpenTask]:
    """Tasks due first; tasks without a deadline last; ties by age. Read in the order of
    ix_open_tasks_agency_order, or of ix_open_tasks_agency_assignee_order for one assignee."""
    statement = (_filtered(query, now)
                 .order_by(nulls_last(OpenTask.due_at.asc()), OpenTask.created_at, OpenTask.id)
                 .limit(query.limit).offset(query.offset))
    return list(session.scalars(statement))


def inbox_count(session: Session, query: InboxQuery, now: datetime) -> int:
    return session.scalar(select(func.count()).select_from(_filtered(query, now).subquery())) or 0
