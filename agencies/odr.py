"""Online dispute resolution (在线纠纷解决) as the complainant meets it: the settlement offer that
awaits their answer, and their answer.

An enrolled business answers a complaint first. When it offers a settlement, the complaint's process
waits for the message ``odr_decision`` (correlated by complaint id) until the negotiation period ends;
that wait, a row of ``message_subscriptions``, is what makes an offer answerable. The offer itself is
what the business submitted: the latest completed task of the process whose form data holds an
``offer``. Both are read from the engine's own records, never from a task id, since the workflows are
the administrators' to change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from agencies.tables import Complaint
from engine.db.tables import AuditEvent, MessageSubscription, OpenTask, PendingTimer

DECISION_MESSAGE = "odr_decision"


@dataclass(frozen=True)
class Offer:
    """A settlement offer awaiting the complainant's answer."""

    offer: str
    explanation: str | None
    offered_at: datetime
    answer_by: datetime | None  # the end of the negotiation period (its timer), when known


def pending_offer(session: Session, complaint: Complaint) -> Offer | None:
    """The offer the complainant may accept or decline now, if any."""
    instance_id = complaint.process_instance_id
    if instance_id is None or session.scalar(select(MessageSubscription.id).where(
            MessageSubscription.instance_id == instance_id,
            MessageSubscription.name == DECISION_MESSAGE).limit(1)) is None:
        return None
    for event in session.scalars(select(AuditEvent).where(
            AuditEvent.instance_id == instance_id, AuditEvent.action == "task.completed")
            .order_by(AuditEvent.id.desc())):
        details = event.details if isinstance(event.details, Mapping) else {}
        data = details.get("data")
        if isinstance(data, Mapping) and isinstance(data.get("offer"), str):
            explanation = data.get("explanation")
            return Offer(data["offer"], explanation if isinstance(explanation, str) else None, event.at,
                         _answer_by(session, instance_id))
    return None


def _answer_by(session: Session, instance_id: int) -> datetime | None:
    """The instant the wait for the answer ends: the instance's only waiting timer while no task is
    open (the business has answered; nothing else of the complaint's own process runs)."""
    if session.scalar(select(OpenTask.id).where(OpenTask.instance_id == instance_id).limit(1)) is not None:
        return None
    timers = list(session.scalars(select(PendingTimer.fire_at).where(PendingTimer.instance_id == instance_id)))
    return min(timers) if timers else None


def decision_payload(complaint: Complaint, accept: bool) -> tuple[dict[str, object], dict[str, object]]:
    """The ``odr_decision`` message's payload and its correlation, as the workflows key it: the
    correlation key ``complaint`` made of the property ``complaint_id``."""
    return {"complaint_id": complaint.id, "accept": accept}, {"complaint": {"complaint_id": complaint.id}}
