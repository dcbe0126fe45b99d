"""Building and inserting outbox rows: shared by the enqueue functions and the digest."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from engine.db.dialect import dialect_insert
from notifications.message import Attachment
from notifications.rendering import Rendered, render, used_variables
from notifications.tables import OutboxMessage
from notifications.vocab import Status


def delivery_key(key: str, channel: str, recipient: str) -> str:
    """The idempotency key of one row: stable across retries, different per recipient and channel."""
    return hashlib.sha256(f"{key}\x1f{channel}\x1f{recipient}".encode()).hexdigest()[:32]


def _json_safe(value: Any) -> Any:
    return json.loads(json.dumps(value, ensure_ascii=False, default=str))


@dataclass(frozen=True)
class Notice:
    """One event's notice, rendered once for all its recipients."""

    template: str
    rendered: Rendered
    context: dict[str, Any]

    @classmethod
    def prepare(cls, template: str, values: Mapping[str, Any], templates_dir: str | None) -> Notice:
        rendered = render(template, values, templates_dir)
        used = used_variables(template, templates_dir)
        # keep only what the template read: task data may carry identity numbers the notice never shows
        return cls(template, rendered, _json_safe({k: v for k, v in values.items() if k in used}))


def make_row(key: str, channel: str, recipient: str, notice: Notice, now: datetime, *, user_id: int | None = None,
             complaint_id: int | None = None, status: Status = Status.PENDING, due: datetime | None = None,
             attachments: Sequence[Attachment] = ()) -> dict[str, Any]:
    rendered = notice.rendered
    return {
        "key": key, "channel": channel, "recipient": recipient,
        "idempotency_key": delivery_key(key, channel, recipient), "user_id": user_id,
        "complaint_id": complaint_id, "template": notice.template, "context": notice.context,
        "subject": rendered.subject, "body_text": rendered.text, "body_html": rendered.html,
        "attachments": [a.as_row() for a in attachments] or None,
        "status": status.value, "attempts": 0, "next_attempt_at": due or now, "acquired_by": None,
        "acquired_until": None, "last_error": None, "digest_id": None, "created_at": now,
        "sent_at": now if status is Status.SENT else None, "dead_at": None,
    }


def insert_new(session: Session, rows: Sequence[dict[str, Any]]) -> dict[int, tuple[str, str]]:
    """Insert, in one statement, the rows whose (key, channel, recipient) is new (``ON CONFLICT DO
    NOTHING``: a concurrent transaction inserting the same row makes this one wait, then skip it).
    Returns the new rows' ids → (channel, recipient), in id order."""
    if not rows:
        return {}
    # parameters passed beside the statement, not in it: the compiled statement is then cached
    statement = (dialect_insert(session, OutboxMessage.__table__)
                 .on_conflict_do_nothing(index_elements=["key", "channel", "recipient"])
                 .returning(OutboxMessage.id, OutboxMessage.channel, OutboxMessage.recipient))
    written = {row.id: (row.channel, row.recipient) for row in session.connection().execute(statement, list(rows))}
    return dict(sorted(written.items()))
