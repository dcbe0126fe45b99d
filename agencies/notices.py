"""Who a notice goes to, and in whose words: the product's side of ``notifications.outbox``.

The outbox renders and queues what it is given. Which complaint's complainant is meant and where
they can be reached, which users are still active and what their e-mail addresses are, and the
agencies' names a template shows in place of the codes the workflow data carries — all that is the
domain's knowledge and is resolved here, in the caller's transaction, before the outbox is called.

Every notice is dated (``notice_date``: the day it is queued, Asia/Shanghai) for its signature line
(落款): the date is the scenario's ``now``, never the machine's clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from agencies.repository import agencies_by_code, agency_users, get_complaint
from agencies.tables import User
from engine.clock import SHANGHAI
from notifications import outbox
from notifications.config import OutboxConfig


def notify_complainant(session: Session, config: OutboxConfig, *, complaint_id: int, template: str,
                       context: Mapping[str, Any], key: str, now: datetime,
                       attachments: Sequence[outbox.Attachment] = ()) -> int:
    """Queue a notice to the complainant of ``complaint_id`` (e-mail, with ``attachments``; SMS when the
    gateway is configured). The template also gets ``tracking_no``, ``complainant_name``, ``business_name``
    and ``notice_date``. Returns the rows
    written (0 when this key was queued before); ``LookupError`` for an unknown complaint."""
    complaint = get_complaint(session, complaint_id)
    if complaint is None:
        raise LookupError(f"未找到投诉件 {complaint_id} / complaint {complaint_id} not found")
    values = {**with_agency_names(session, context), "complainant_name": complaint.complainant_name,
              "business_name": complaint.business_name, "tracking_no": complaint.tracking_no,
              "notice_date": notice_date(now)}
    to = outbox.Complainant(complaint.id, complaint.complainant_email, complaint.complainant_phone)
    return outbox.notify_complainant(session, config, complainant=to, template=template, context=values, key=key,
                                     now=now, attachments=attachments)


def notify_users(session: Session, config: OutboxConfig, *, user_ids: Iterable[int], template: str,
                 context: Mapping[str, Any], key: str, now: datetime) -> int:
    """Queue a notice to these staff users, in the order given (in-app always, e-mail by their
    preferences). Inactive or unknown users are skipped. The template also gets ``notice_date``.
    Returns the outbox rows written."""
    ids = list(dict.fromkeys(user_ids))
    users = {user.id: user for user in session.scalars(
        select(User).where(User.id.in_(ids), User.active.is_(True)))} if ids else {}
    recipients = [outbox.StaffRecipient(users[i].id, users[i].email) for i in ids if i in users]
    values = {**with_agency_names(session, context), "notice_date": notice_date(now)} if recipients \
        else dict(context)
    return outbox.notify_users(session, config, recipients=recipients, template=template, context=values, key=key,
                               now=now)


def notify_business(session: Session, config: OutboxConfig, *, complaint_id: int, business_id: int | None,
                    template: str, context: Mapping[str, Any], key: str, now: datetime) -> int:
    """Queue a notice to the active users of the business a complaint is against (the complaint's
    linked business, else ``business_id``: a complaint's first transition runs before intake links
    it). The template also gets ``business_name``, ``tracking_no`` and ``notice_date``."""
    complaint = get_complaint(session, complaint_id)
    if complaint is None:
        raise LookupError(f"未找到投诉件 {complaint_id} / complaint {complaint_id} not found")
    business = complaint.business_id or business_id
    users = session.scalars(select(User.id).where(User.business_id == business, User.active.is_(True))
                            .order_by(User.id)).all() if business is not None else []
    values = {**context, "business_name": complaint.business_name, "tracking_no": complaint.tracking_no}
    return notify_users(session, config, user_ids=users, template=template, context=values, key=key, now=now)


def notify_agency_role(session: Session, config: OutboxConfig, *, agency_id: int, role: str, template: str,
                       context: Mapping[str, Any], key: str, now: datetime) -> int:
    """Queue a notice to the agency's active users holding exactly ``role``: supervisors are not
    liaisons here (they are reached with ``role="supervisor"``)."""
    return notify_users(session, config, user_ids=[u.id for u in agency_users(session, agency_id, role)],
                        template=template, context=context, key=key, now=now)


def notice_date(now: datetime) -> str:
    """The date a notice is signed with: the Asia/Shanghai day of ``now``, as an ISO date (templates
    write it in Chinese with their ``cn_date`` filter)."""
    return now.astimezone(SHANGHAI).date().isoformat()


def with_agency_names(session: Session, context: Mapping[str, Any]) -> dict[str, Any]:
    """Workflow data names agencies by code (``agency``, ``to_agency``, …); templates speak of them by
    name (``agency_name``, ``to_agency_name``) and word some sentences by the agency's kind (only a
    people's mediation committee's agreement can be judicially confirmed): every ``*agency`` code gets
    its ``*_name`` and ``*_kind`` beside it (an unknown code stands for itself, of kind "").
    A name or kind the caller gave already is kept."""
    values = dict(context)
    codes = {k: v for k, v in values.items() if (k == "agency" or k.endswith("_agency")) and isinstance(v, str)}
    if codes:
        found = agencies_by_code(session, codes.values())
        for k, code in codes.items():
            values.setdefault(f"{k}_name", found[code].name if code in found else code)
            values.setdefault(f"{k}_kind", found[code].kind if code in found else "")
    return values
