"""The daily digest: reminder e-mails of users who chose it, bundled into one e-mail a day.

``notify_users`` writes such e-mails as ``held`` rows, due at the next digest time (``digest_hour`` of
the outbox settings, 08:00 Asia/Shanghai by default). ``release_digests`` — called by every dispatcher
round, so the schedule of the calling job does not matter — turns each user's due held rows into one
``digest`` row, in one transaction: the held rows become ``digested`` (pointing at it), so nothing is
bundled twice or lost.
In-app reminders are not held: the inbox shows them one by one, at once.
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from itertools import groupby

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engine.clock import SHANGHAI, ensure_aware
from engine.db.dialect import skip_locked
from notifications.config import OutboxConfig
from notifications.errors import TemplateError
from notifications.outbox_rows import Notice, insert_new, make_row
from notifications.tables import OutboxMessage
from notifications.vocab import ChannelName, Status

log = logging.getLogger(__name__)
DIGEST_TEMPLATE = "digest"


def next_digest_at(now: datetime, hour: int) -> datetime:
    """The next digest time strictly after ``now``: ``hour``:00 in Asia/Shanghai."""
    local = ensure_aware(now).astimezone(SHANGHAI)
    slot = datetime.combine(local.date(), time(hour), tzinfo=SHANGHAI)
    return slot if slot > local else slot + timedelta(days=1)


def release_digests(session_factory: sessionmaker[Session], now: datetime, config: OutboxConfig) -> int:
    """Queue one digest per recipient whose held reminders are due; returns the digests queued.
    ``config`` names the admins' template overrides (the digest's text may be overridden too)."""
    with session_factory() as session:
        query = (select(OutboxMessage)
                 .where(OutboxMessage.status == Status.HELD.value, OutboxMessage.next_attempt_at <= now)
                 .order_by(OutboxMessage.user_id, OutboxMessage.recipient, OutboxMessage.id))
        held = list(session.scalars(skip_locked(session, query)))
        queued = 0
        for (user_id, recipient), group in groupby(held, key=lambda r: (r.user_id, r.recipient)):
            rows = list(group)
            digest_id = _queue_digest(session, user_id, recipient, rows, now, config.templates_dir)
            for row in rows:
                row.status, row.digest_id = Status.DIGESTED.value, digest_id
            queued += 1
        session.commit()
        return queued


def _queue_digest(session: Session, user_id: int | None, recipient: str, rows: list[OutboxMessage],
                  now: datetime, templates_dir: str | None) -> int:
    context = {"count": len(rows), "items": [{"subject": r.subject, "text": r.body_text} for r in rows]}
    try:
        notice = Notice.prepare(DIGEST_TEMPLATE, context, templates_dir)
    except TemplateError:  # an admin's broken override must not stop the dispatcher: use ours
        log.exception("digest override failed; using the built-in template")
        notice = Notice.prepare(DIGEST_TEMPLATE, context, None)
    key = f"digest:{user_id}:{rows[0].id}"  # held rows are bundled once, so their first id names the bundle
    row = make_row(key, ChannelName.EMAIL.value, recipient, notice, now, user_id=user_id)
    written = insert_new(session, [row])
    if written:
        return next(iter(written))
    existing = session.scalar(select(OutboxMessage.id).where(
        OutboxMessage.key == key, OutboxMessage.channel == ChannelName.EMAIL.value,
        OutboxMessage.recipient == recipient))
    assert existing is not None
    return existing
