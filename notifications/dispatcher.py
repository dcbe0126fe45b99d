"""Send what the outbox holds: claimed with a lease, sent outside any transaction, at least once.

1. Claim (one short transaction): due rows (``pending``, ``next_attempt_at <= now``, no live lease) are
   locked with ``FOR UPDATE SKIP LOCKED`` (PostgreSQL: concurrent dispatchers take different rows)
   and stamped with ``acquired_by`` / ``acquired_until``.
2. Send each row through its channel, with the row's idempotency key.
3. Mark it ``sent``, or schedule a retry with exponential backoff, or dead-letter it after
   ``max_attempts``. A dispatcher that dies between 2 and 3 leaves a lease that expires: the row is
   sent again with the same key (at-least-once; receivers de-duplicate by key).
"""

from __future__ import annotations

import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from engine.clock import Clock
from notifications.channels import Channel, DeliveryError
from notifications.rendering import TemplateError, render
from notifications.tables import OutboxMessage

LEASE = timedelta(minutes=5)
BASE_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(hours=6)
MAX_ATTEMPTS = 8


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, … capped at 6 h: a dead SMTP server is not hammered, a blip costs little."""
    return min(BASE_DELAY * (2 ** max(attempts - 1, 0)), MAX_DELAY)


@dataclass
class DispatchReport:
    sent: int = 0
    retried: int = 0
    dead: int = 0
    errors: list[str] = field(default_factory=list)


def claim(session_factory: sessionmaker[Session], now: datetime, worker: str, limit: int) -> list[OutboxMessage]:
    with session_factory() as session:
        rows = list(session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now,
                   or_(OutboxMessage.acquired_until.is_(None), OutboxMessage.acquired_until < now))
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(limit)
            .with_for_update(skip_locked=True)))
        for row in rows:
            row.acquired_by, row.acquired_until = worker, now + LEASE
            row.attempts += 1
        session.commit()
        return rows


def dispatch_pending(session_factory: sessionmaker[Session], channels: Mapping[str, Channel], clock: Clock, *,
                     limit: int = 100, worker: str | None = None, max_attempts: int = MAX_ATTEMPTS) -> DispatchReport:
    worker = worker or f"{socket.gethostname()}:{id(session_factory)}"
    report = DispatchReport()
    while True:
        rows = claim(session_factory, clock.now(), worker, limit)
        if not rows:
            return report
        for row in rows:
            channel = channels.get(row.channel)
            error = None
            if channel is None:
                error = f"no {row.channel} channel is configured"
            else:
                try:
                    channel.send(row)
                except DeliveryError as exc:
                    error = str(exc)
            _finish(session_factory, row, worker, clock.now(), error, max_attempts, report)
        if len(rows) < limit:
            return report


def _finish(session_factory: sessionmaker[Session], row: OutboxMessage, worker: str, now: datetime,
            error: str | None, max_attempts: int, report: DispatchReport) -> None:
    if error is None:
        values: dict[str, object] = {"status": "sent", "sent_at": now, "acquired_until": None, "last_error": None}
        report.sent += 1
    elif row.attempts >= max_attempts:
        values = {"status": "dead", "acquired_until": None, "last_error": error}
        report.dead += 1
    else:
        values = {"next_attempt_at": now + backoff(row.attempts), "acquired_until": None, "last_error": error}
        report.retried += 1
    if error:
        report.errors.append(f"outbox {row.id}: {error}")
    with session_factory() as session:
        session.execute(update(OutboxMessage).where(OutboxMessage.id == row.id, OutboxMessage.acquired_by == worker)
                        .values(**values))
        session.commit()


def dead_letters(session: Session, limit: int = 100) -> list[OutboxMessage]:
    return list(session.scalars(select(OutboxMessage).where(OutboxMessage.status == "dead")
                                .order_by(OutboxMessage.id.desc()).limit(limit)))


def retry_dead(session: Session, outbox_id: int, now: datetime, templates_dir: str | None = None) -> OutboxMessage:
    """An admin sends a dead letter again (re-rendered, in case the template was the problem)."""
    row = session.get(OutboxMessage, outbox_id)
    if row is None or row.status != "dead":
        raise LookupError(f"no dead letter {outbox_id}")
    try:
        rendered = render(row.template, row.context, templates_dir)
    except TemplateError as exc:
        row.last_error = str(exc)
        session.flush()
        return row
    row.subject, row.body_text, row.body_html = rendered.subject, rendered.text, rendered.html
    row.status, row.attempts, row.next_attempt_at, row.acquired_until = "pending", 0, now, None
    session.flush()
    return row


def release_digests(session_factory: sessionmaker[Session], now: datetime) -> int:
    """Once a day: fold each user's held reminder emails into one digest row, then mark them sent."""
    from notifications.outbox import _insert_ignoring_duplicates, _row

    with session_factory() as session:
        held = list(session.scalars(select(OutboxMessage).where(OutboxMessage.status == "digest")
                                    .order_by(OutboxMessage.recipient, OutboxMessage.id).with_for_update()))
        by_recipient: dict[tuple[str, int | None], list[OutboxMessage]] = {}
        for row in held:
            by_recipient.setdefault((row.recipient, row.user_id), []).append(row)
        digests = [
            _row(key=f"digest:{now.date().isoformat()}", channel="email", recipient=recipient, template="digest",
                 context={"count": len(rows), "items": [{"subject": r.subject, "text": r.body_text} for r in rows]},
                 now=now, user_id=user_id)
            for (recipient, user_id), rows in by_recipient.items()
        ]
        written = _insert_ignoring_duplicates(session, digests)
        for row in held:
            row.status, row.sent_at, row.last_error = "sent", now, "delivered in the daily digest"
        session.commit()
        return written
