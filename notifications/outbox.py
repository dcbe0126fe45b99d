"""Queue notices inside the caller's transaction (the transactional outbox). Never commits, never sends.

Rows are written with the state change that causes them: a rolled-back transition leaves no notice,
a committed one never loses its notice. The dispatcher sends later, at least once.

- The caller resolves the recipients — a complainant's addresses, the staff users who are to hear
  of an event and their e-mail addresses — and the template's context (names, not codes): this
  package renders and delivers what it is given and looks up no agency, user or complaint.
- The text is rendered now, so a missing variable or an unknown template raises ``TemplateError``
  and fails the transition — loudly, in the caller's tests — instead of queueing a notice that
  can never be sent. (``check_templates`` keeps admins' overrides from doing this in production.)
- ``key`` is the caller's deterministic name for the event; (key, channel, recipient) is unique
  and inserted with ``ON CONFLICT DO NOTHING``, so a repeated call writes nothing, even when two
  transactions race.
- In-app notices are delivered right here, in the same transaction: the inbox is the same database,
  so this is exactly-once by construction and needs no dispatcher round. Their outbox row is
  written as ``sent`` and keeps the one log of every notice and the idempotency guarantee.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from engine.db.dialect import dialect_insert
from notifications.config import OutboxConfig
from notifications.digest import next_digest_at
from notifications.message import Attachment
from notifications.outbox_rows import Notice, delivery_key, insert_new, make_row
from notifications.preferences import preferences_for
from notifications.tables import InAppNotice
from notifications.vocab import ChannelName, Status

__all__ = ["DIGEST_TEMPLATES", "Attachment", "Complainant", "OutboxConfig", "StaffRecipient", "delivery_key",
           "notify_complainant", "notify_users"]

DIGEST_TEMPLATES = frozenset({"reminder"})
"""Templates whose e-mails wait for the daily digest of a user who asked for one."""
MAX_KEY_LENGTH = 200


@dataclass(frozen=True)
class Complainant:
    """Where a complainant's notices go, as the caller found them: ``complaint_id`` is recorded on
    every row (the complaint's log of what was sent), the addresses are those the complainant gave."""

    complaint_id: int
    email: str | None
    phone: str | None


@dataclass(frozen=True)
class StaffRecipient:
    """A staff user who is to hear of an event. The caller passes only users who may receive notices
    (active ones); their own channel choices (``notifications.preferences``) are applied here."""

    user_id: int
    email: str | None


def notify_complainant(session: Session, config: OutboxConfig, *, complainant: Complainant, template: str,
                       context: Mapping[str, Any], key: str, now: datetime,
                       attachments: Sequence[Attachment] = ()) -> int:
    """Queue a notice to a complainant: e-mail if they gave an address, SMS through the webhook gateway
    (when ``config`` has one) to their phone. ``attachments`` go with the e-mail only (an SMS carries
    text). Returns the rows written (0 when this key was queued before)."""
    _check_key(key)
    notice = Notice.prepare(template, context, config.templates_dir)
    recipients: list[tuple[str, str]] = []
    if complainant.email:
        recipients.append((ChannelName.EMAIL.value, complainant.email))
    if config.sms_via_webhook and complainant.phone:
        recipients.append((ChannelName.SMS.value, complainant.phone))
    rows = [make_row(key, channel, recipient, notice, now, complaint_id=complainant.complaint_id,
                     attachments=attachments if channel == ChannelName.EMAIL.value else ())
            for channel, recipient in recipients]
    return len(insert_new(session, rows))


def notify_users(session: Session, config: OutboxConfig, *, recipients: Iterable[StaffRecipient], template: str,
                 context: Mapping[str, Any], key: str, now: datetime) -> int:
    """Queue a notice to staff by their preferences: in-app always (delivered now), e-mail if they have
    an address and want it; reminder e-mails wait for the daily digest of users who chose one.
    A user named twice hears once. Returns the outbox rows written."""
    _check_key(key)
    staff: dict[int, StaffRecipient] = {}
    for recipient in recipients:
        staff.setdefault(recipient.user_id, recipient)
    if not staff:
        return 0
    notice = Notice.prepare(template, context, config.templates_dir)
    prefs = preferences_for(session, list(staff))
    complaint_id = context.get("complaint_id") if isinstance(context.get("complaint_id"), int) else None
    rows = []
    for recipient in staff.values():
        user_id = recipient.user_id
        rows.append(make_row(key, ChannelName.IN_APP.value, str(user_id), notice, now, user_id=user_id,
                             complaint_id=complaint_id, status=Status.SENT))
        if recipient.email and prefs[user_id].wants(ChannelName.EMAIL.value):
            held = prefs[user_id].digest_reminders and template in DIGEST_TEMPLATES
            rows.append(make_row(key, ChannelName.EMAIL.value, recipient.email, notice, now, user_id=user_id,
                                 complaint_id=complaint_id, status=Status.HELD if held else Status.PENDING,
                                 due=next_digest_at(now, config.digest_hour) if held else now))
    written = insert_new(session, rows)
    subject, body = notice.rendered.subject, notice.rendered.text
    notices = [{"outbox_id": outbox_id, "user_id": int(recipient), "template": template, "subject": subject,
                "body": body, "complaint_id": complaint_id, "created_at": now, "read_at": None}
               for outbox_id, (channel, recipient) in written.items() if channel == ChannelName.IN_APP.value]
    if notices:
        session.execute(dialect_insert(session, InAppNotice).values(notices))
    return len(written)


def _check_key(key: str) -> None:
    """Refuse a key that cannot be stored (the ``key`` column holds 200 characters): a caller's bug."""
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ValueError(f"a notice key must be 1–{MAX_KEY_LENGTH} characters, got {len(key)}")
