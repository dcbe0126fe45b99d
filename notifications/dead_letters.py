"""Dead letters for admins: notices the dispatcher gave up on, and sending one again.

A dead row keeps its text, its idempotency key and its last error. Retrying it starts the attempt
count afresh and keeps the key, so a receiver that did get an earlier attempt can still drop it.
The caller (an admin route) writes the audit event and commits.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from engine.db.affected import rows_affected
from notifications.errors import NotDeadLetter
from notifications.tables import OutboxMessage
from notifications.vocab import Status


def list_dead_letters(session: Session, *, limit: int = 50, offset: int = 0) -> list[OutboxMessage]:
    """Most recently dead first."""
    return list(session.scalars(
        select(OutboxMessage).where(OutboxMessage.status == Status.DEAD.value)
        .order_by(OutboxMessage.dead_at.desc(), OutboxMessage.id.desc()).limit(limit).offset(offset)))


def count_dead_letters(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(OutboxMessage)
                          .where(OutboxMessage.status == Status.DEAD.value)) or 0


def retry_dead(session: Session, outbox_id: int, now: datetime) -> OutboxMessage:
    """Queue a dead letter again, due now. ``NotDeadLetter`` if the row is unknown or not dead
    (e.g. another admin retried it a moment ago): the update is conditional, so never twice."""
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == outbox_id, OutboxMessage.status == Status.DEAD.value)
        .values(status=Status.RETRY.value, attempts=0, next_attempt_at=now, acquired_until=None, dead_at=None))
    if rows_affected(result) == 0:
        raise NotDeadLetter(outbox_id)
    row = session.get(OutboxMessage, outbox_id, populate_existing=True)
    assert row is not None
    return row
