"""Queue notices inside the caller's transaction (the transactional outbox). Never commits, never sends.

Rows are written with the state change that causes them: a rolled-back transition leaves no notice,
a committed one never loses its notice. The dispatcher sends later, at least once.

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

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from agencies.repository import agencies_by_code, agency_users, get_complaint
from agencies.tables import User
from engine.db.dialect import dialect_insert
from notifications import config
from notifications.config import configure
from notifications.digest import next_digest_at
from notifications.outbox_rows import Notice, delivery_key, insert_new, make_row
from notifications.preferences import preferences_for
from notifications.tables import InAppNotice
from notifications.vocab import ChannelName, Status

__all__ = ["DIGEST_TEMPLATES", "configure", "delivery_key", "notify_agency_role", "notify_complainant",
           "notify_users"]

DIGEST_TEMPLATES = frozenset({"reminder"})
"""Templates whose e-mails wait for the daily digest of a user who asked for one."""
MAX_KEY_LENGTH = 200


def notify_complainant(session: Session, *, complaint_id: int, template: str, context: Mapping[str, Any], key: str,
                       now: datetime) -> int:
    """Queue a notice to a complainant: e-mail if they gave an address, SMS through the webhook gateway
    (when one is configured) to their phone. The template also gets ``tracking_no`` and
    ``complainant_name``. Returns the rows written (0 when this key was queued before)."""
    _check_key(key)
    complaint = get_complaint(session, complaint_id)
    if complaint is None:
        raise LookupError(f"complaint {complaint_id} not found")
    values = {**_with_agency_names(session, context), "complainant_name": complaint.complainant_name,
              "tracking_no": complaint.tracking_no}
    notice = Notice.prepare(template, values, config.current().templates_dir)
    recipients: list[tuple[str, str]] = []
    if complaint.complainant_email:
        recipients.append((ChannelName.EMAIL.value, complaint.complainant_email))
    if config.current().sms_via_webhook and complaint.complainant_phone:
        recipients.append((ChannelName.SMS.value, complaint.complainant_phone))
    rows = [make_row(key, channel, recipient, notice, now, complaint_id=complaint_id)
            for channel, recipient in recipients]
    return len(insert_new(session, rows))


def notify_users(session: Session, *, user_ids: Iterable[int], template: str, context: Mapping[str, Any], key: str,
                 now: datetime) -> int:
    """Queue a notice to staff by their preferences: in-app always (delivered now), e-mail if they have
    an address and want it; reminder e-mails wait for the daily digest of users who chose one.
    Inactive or unknown users are skipped. Returns the outbox rows written."""
    _check_key(key)
    ids = list(dict.fromkeys(user_ids))
    if not ids:
        return 0
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids), User.active.is_(True)))}
    values = _with_agency_names(session, context)
    notice = Notice.prepare(template, values, config.current().templates_dir)
    prefs = preferences_for(session, list(users))
    complaint_id = values.get("complaint_id") if isinstance(values.get("complaint_id"), int) else None
    rows = []
    for user_id in ids:
        user = users.get(user_id)
        if user is None:
            continue
        rows.append(make_row(key, ChannelName.IN_APP.value, str(user_id), notice, now, user_id=user_id,
                             complaint_id=complaint_id, status=Status.SENT))
        if user.email and prefs[user_id].wants(ChannelName.EMAIL.value):
            held = prefs[user_id].digest_reminders and template in DIGEST_TEMPLATES
            rows.append(make_row(key, ChannelName.EMAIL.value, user.email, notice, now, user_id=user_id,
                                 complaint_id=complaint_id, status=Status.HELD if held else Status.PENDING,
                                 due=next_digest_at(now, config.current().digest_hour) if held else now))
    written = insert_new(session, rows)
    subject, body = notice.rendered.subject, notice.rendered.text
    notices = [{"outbox_id": outbox_id, "user_id": int(recipient), "template": template, "subject": subject,
                "body": body, "complaint_id": complaint_id, "created_at": now, "read_at": None}
               for outbox_id, (channel, recipient) in written.items() if channel == ChannelName.IN_APP.value]
    if notices:
        session.execute(dialect_insert(session, InAppNotice).values(notices))
    return len(written)


def notify_agency_role(session: Session, *, agency_id: int, role: str, template: str, context: Mapping[str, Any],
                       key: str, now: datetime) -> int:
    """Queue a notice to the agency's active users holding exactly ``role``: supervisors are not
    liaisons here (they are reached with ``role="supervisor"``)."""
    return notify_users(session, user_ids=[u.id for u in agency_users(session, agency_id, role)],
                        template=template, context=context, key=key, now=now)


def _check_key(key: str) -> None:
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ValueError(f"a notice key must be 1–{MAX_KEY_LENGTH} characters, got {len(key)}")


def _with_agency_names(session: Session, context: Mapping[str, Any]) -> dict[str, Any]:
    """Workflow data names agencies by code (``agency``, ``to_agency``, …); templates speak of them by
    name (``agency_name``, ``to_agency_name``): every ``*agency`` code gets its ``*_name`` beside it."""
    values = dict(context)
    codes = {k: v for k, v in values.items() if (k == "agency" or k.endswith("_agency")) and isinstance(v, str)}
    if codes:
        found = agencies_by_code(session, codes.values())
        for k, code in codes.items():
            values.setdefault(f"{k}_name", found[code].name if code in found else code)
    return values


