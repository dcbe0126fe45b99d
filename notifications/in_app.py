"""A user's in-app notices (``/api/v1/notifications``): newest first, read/unread.

Every function takes the user's id and touches only that user's notices: another user's notice id
behaves exactly like one that does not exist (the API answers 404 for both).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from engine.db.affected import rows_affected
from notifications.tables import InAppNotice


def list_notices(session: Session, user_id: int, *, unread_only: bool = False, limit: int = 50,
                 offset: int = 0) -> list[InAppNotice]:
    query = select(InAppNotice).where(InAppNotice.user_id == user_id)
    if unread_only:
        query = query.where(InAppNotice.read_at.is_(None))
    return list(session.scalars(query.order_by(InAppNotice.created_at.desc(), InAppNotice.id.desc())
                                .limit(limit).offset(offset)))


def unread_count(session: Session, user_id: int) -> int:
    return session.scalar(select(func.count()).select_from(InAppNotice)
                          .where(InAppNotice.user_id == user_id, InAppNotice.read_at.is_(None))) or 0


def mark_read(session: Session, user_id: int, notice_id: int, now: datetime) -> bool:
    """Mark one of the user's own notices read. False if there is no such notice *of this user*;
    marking an already read notice again is fine (True) and keeps the first reading time."""
    owned = session.scalar(select(InAppNotice.read_at.is_not(None))
                           .where(InAppNotice.id == notice_id, InAppNotice.user_id == user_id))
    if owned is None:
        return False
    if not owned:
        session.execute(update(InAppNotice).where(InAppNotice.id == notice_id, InAppNotice.user_id == user_id,
                                                  InAppNotice.read_at.is_(None)).values(read_at=now))
    return True


def mark_all_read(session: Session, user_id: int, now: datetime) -> int:
    result = session.execute(update(InAppNotice).where(InAppNotice.user_id == user_id,
                                                       InAppNotice.read_at.is_(None)).values(read_at=now))
    return rows_affected(result)
