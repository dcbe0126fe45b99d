"""A user's in-app notices (``/api/v1/notifications``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from notifications.tables import InAppNotice


def list_notices(session: Session, user_id: int, *, unread_only: bool = False, limit: int = 50,
                 offset: int = 0) -> list[InAppNotice]:
    query = select(InAppNotice).where(InAppNotice.user_id == user_id)
    if unread_only:
        query = query.where(InAppNotice.read_at.is_(None))
    return list(session.scalars(query.order_by(InAppNotice.created_at.desc(), InAppNotice.id.desc())
                                .limit(limit).offset(offset)))


def mark_read(session: Session, user_id: int, notice_id: int, now: datetime) -> bool:
    """Mark one of the user's own notices read; another user's notice id does nothing."""
    result = session.execute(update(InAppNotice).where(InAppNotice.id == notice_id, InAppNotice.user_id == user_id,
                                                       InAppNotice.read_at.is_(None)).values(read_at=now))
    return bool(result.rowcount)  # type: ignore[attr-defined]
