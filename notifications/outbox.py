"""Queue notices inside the caller's transaction (the transactional outbox).

Nothing is sent here: rows are written with the state change that causes them, so a rolled-back
transition leaves no notice and a committed one never loses its notice. The dispatcher sends later.
Rendering happens now, so the row holds the exact text every retry will send; a template that fails
to render does not block the transition — its row is dead-lettered with the error, for an admin to
fix the template and retry.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from agencies.repository import agency_users, get_agency_by_code
from agencies.tables import Complaint, User
from notifications.rendering import Rendered, TemplateError, render
from notifications.tables import NotificationPreference, OutboxMessage

AGENCY_KEYS = ("agency", "to_agency", "from_agency", "competent_agency", "mediator_agency", "regulator_agency",
               "received_by")
DIGEST_TEMPLATES = frozenset({"reminder"})


class Settings:
    """Process-wide outbox settings, set once by the wiring (which channels exist here)."""

    sms_via_webhook: bool = False
    templates_dir: str | None = None


def configure(*, sms_via_webhook: bool, templates_dir: str | None) -> None:
    Settings.sms_via_webhook = sms_via_webhook
    Settings.templates_dir = templates_dir


def _insert_ignoring_duplicates(session: Session, rows: list[dict[str, Any]]) -> int:
    """Insert rows whose (key, channel, recipient) is new; an idempotent retry of a caller writes nothing."""
    if not rows:
        return 0
    existing = set(session.execute(
        select(OutboxMessage.key, OutboxMessage.channel, OutboxMessage.recipient)
        .where(OutboxMessage.key.in_({r["key"] for r in rows}))).all())
    fresh = [r for r in rows if (r["key"], r["channel"], r["recipient"]) not in existing]
    for row in fresh:
        session.add(OutboxMessage(**row))
    session.flush()
    return len(fresh)


def _row(*, key: str, channel: str, recipient: str, template: str, context: dict[str, Any], now: datetime,
         user_id: int | None = None, complaint_id: int | None = None, status: str = "pending") -> dict[str, Any]:
    try:
        rendered: Rendered | None = render(template, context, Settings.templates_dir)
        error = None
    except TemplateError as exc:
        rendered, error, status = None, str(exc), "dead"
    return {
        "key": key, "channel": channel, "recipient": recipient, "template": template, "context": context,
        "user_id": user_id, "complaint_id": complaint_id, "status": status, "attempts": 0,
        "subject": rendered.subject if rendered else "", "body_text": rendered.text if rendered else "",
        "body_html": rendered.html if rendered else "", "next_attempt_at": now, "created_at": now,
        "last_error": error,
    }


def _with_agency_names(session: Session, context: Mapping[str, Any]) -> dict[str, Any]:
    """Templates speak of agencies by name; workflow data holds their codes."""
    enriched = {k: v for k, v in context.items() if isinstance(v, str | int | float | bool | list | dict)
                or v is None}
    for key in AGENCY_KEYS:
        code = enriched.get(key)
        if isinstance(code, str):
            agency = get_agency_by_code(session, code)
            enriched[f"{key}_name"] = agency.name if agency is not None else code
    return enriched


def notify_complainant(session: Session, *, complaint_id: int, template: str, context: Mapping[str, Any], key: str,
                       now: datetime) -> int:
    complaint = session.get(Complaint, complaint_id)
    if complaint is None:
        raise ValueError(f"complaint {complaint_id} not found")
    ctx = {**_with_agency_names(session, context), "complainant_name": complaint.complainant_name,
           "tracking_no": complaint.tracking_no}
    rows = []
    if complaint.complainant_email:
        rows.append(_row(key=key, channel="email", recipient=complaint.complainant_email, template=template,
                         context=ctx, now=now, complaint_id=complaint_id))
    if Settings.sms_via_webhook and complaint.complainant_phone:
        rows.append(_row(key=key, channel="sms", recipient=complaint.complainant_phone, template=template,
                         context=ctx, now=now, complaint_id=complaint_id))
    return _insert_ignoring_duplicates(session, rows)


def preferences(session: Session, user_ids: Collection[int]) -> dict[int, NotificationPreference]:
    rows = session.scalars(select(NotificationPreference).where(NotificationPreference.user_id.in_(user_ids)))
    return {p.user_id: p for p in rows}


def set_preferences(session: Session, user_id: int, *, email: bool, digest_reminders: bool) -> None:
    current = session.get(NotificationPreference, user_id)
    if current is None:
        session.add(NotificationPreference(user_id=user_id, email=email, digest_reminders=digest_reminders))
    else:
        current.email, current.digest_reminders = email, digest_reminders
    session.flush()


def notify_users(session: Session, *, user_ids: Iterable[int], template: str, context: Mapping[str, Any], key: str,
                 now: datetime) -> int:
    ids = list(dict.fromkeys(user_ids))
    if not ids:
        return 0
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids), User.active.is_(True)))}
    prefs = preferences(session, ids)
    ctx = _with_agency_names(session, context)
    rows = []
    for user_id in ids:
        user = users.get(user_id)
        if user is None:
            continue
        pref = prefs.get(user_id)
        rows.append(_row(key=key, channel="in_app", recipient=str(user_id), template=template, context=ctx, now=now,
                         user_id=user_id, complaint_id=ctx.get("complaint_id")))
        if user.email and (pref is None or pref.email):
            digest = pref is not None and pref.digest_reminders and template in DIGEST_TEMPLATES
            rows.append(_row(key=key, channel="email", recipient=user.email, template=template, context=ctx,
                             now=now, user_id=user_id, complaint_id=ctx.get("complaint_id"),
                             status="digest" if digest else "pending"))
    return _insert_ignoring_duplicates(session, rows)


def notify_agency_role(session: Session, *, agency_id: int, role: str, template: str, context: Mapping[str, Any],
                       key: str, now: datetime) -> int:
    return notify_users(session, user_ids=[u.id for u in agency_users(session, agency_id, role)],
                        template=template, context=context, key=key, now=now)

