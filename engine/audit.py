"""The one writer of ``audit_events``: who did what, when, to which instance, complaint, case or task.

Every audited action of the product goes through ``record`` (one event) or ``record_all`` (a batch,
e.g. the escalation sweep's rungs), inside the caller's transaction: the event is stored exactly when
the change it describes is, and rolled back with it. Rows are appended, never updated.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypedDict, cast

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from engine.db.tables import AuditEvent

# a Core statement built once: SQLAlchemy caches its compiled form, and the parameters travel beside it
_INSERT = insert(cast(Table, AuditEvent.__table__))


class AuditRow(TypedDict):
    """One ``audit_events`` row, as ``row`` builds it."""

    at: datetime
    actor: str
    action: str
    agency_code: str | None
    instance_id: int | None
    complaint_id: int | None
    case_id: int | None
    task_id: str | None
    details: dict[str, Any]


def row(*, actor: str, action: str, at: datetime, agency_code: str | None, details: dict[str, Any],
        instance_id: int | None = None, complaint_id: int | None = None, case_id: int | None = None,
        task_id: str | None = None) -> AuditRow:
    """An event to pass to ``record_all``. ``agency_code`` is required (``None`` only when no agency acts
    or is concerned), so that no caller forgets the column the agency's audit views filter on."""
    return {"at": at, "actor": actor, "action": action, "agency_code": agency_code, "instance_id": instance_id,
            "complaint_id": complaint_id, "case_id": case_id, "task_id": task_id, "details": details}


def record(session: Session, *, actor: str, action: str, at: datetime, agency_code: str | None,
           details: dict[str, Any], instance_id: int | None = None, complaint_id: int | None = None,
           case_id: int | None = None, task_id: str | None = None) -> None:
    """Write one event in the session's transaction."""
    session.connection().execute(_INSERT, row(
        actor=actor, action=action, at=at, agency_code=agency_code, details=details, instance_id=instance_id,
        complaint_id=complaint_id, case_id=case_id, task_id=task_id))


def record_all(session: Session, rows: Sequence[AuditRow]) -> None:
    """Write many events in one statement (an ``executemany``), in the session's transaction."""
    if rows:
        session.connection().execute(_INSERT, list(rows))
