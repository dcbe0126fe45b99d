"""Where a BPMN message goes: the subscription index, the parked messages, and the matching rule.

A message thrown by one instance (or delivered from outside) reaches, in this order: an instance
waiting for it (a row of ``message_subscriptions`` with its name and correlation), a new instance of
a deployed spec whose start event catches it, or the ``pending_messages`` table, where it stays until
an instance starts waiting for it. The ``Runner`` drives the transitions this causes; this module
holds the queries and writes on the two tables, so routing reads the same way wherever it happens.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from sqlalchemy import ColumnElement, delete, insert, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from engine import spiff
from engine.db.tables import MessageSubscription, PendingMessage

MAX_MESSAGE_HOPS = 25
"""A message that makes instances throw messages at each other more often than this is stopped: a
model that never settles must fail its transition, not loop for ever."""


def correlates(column: InstrumentedAttribute[str | None], value: str | None,
               exact: bool = False) -> ColumnElement[bool]:
    """A correlation matches itself; an uncorrelated subscription or parked message (``NULL``) matches
    any message of its name, unless ``exact`` (removing one precise subscription)."""
    if value is None:
        return column.is_(None)
    if exact:
        return column == value
    return or_(column == value, column.is_(None))


def subscriber(session: Session, message: spiff.OutgoingMessage, source: int | None) -> int | None:
    """An instance (other than the sender) waiting for ``message``, if any."""
    return session.scalar(select(MessageSubscription.instance_id).where(
        MessageSubscription.name == message.name,
        correlates(MessageSubscription.correlation, message.correlation),
        MessageSubscription.instance_id != (source or 0)).limit(1))


def park(session: Session, message: spiff.OutgoingMessage, source: int | None, now: datetime) -> None:
    """Keep a message nobody waits for until an instance does."""
    session.add(PendingMessage(
        name=message.name, correlation=message.correlation, source_instance_id=source, created_at=now,
        payload={"payload": message.payload, "correlations": message.correlations}))


def take_parked(session: Session, workflow: BpmnWorkflow, waiting: set[spiff.WaitingMessage]) -> bool:
    """Deliver to ``workflow`` the parked messages it now waits for (``waiting``: its new waits),
    oldest first, deleting each one taken. True if any was."""
    took = False
    for wait in waiting:
        parked = session.scalars(select(PendingMessage).where(
            PendingMessage.name == wait.name, correlates(PendingMessage.correlation, wait.correlation))
            .order_by(PendingMessage.id)).all()
        for message in parked:
            body: dict[str, Any] = message.payload or {}
            if spiff.deliver_message(workflow, message.name, body.get("payload"), body.get("correlations")):
                session.delete(message)
                took = True
    return took


def sync_subscriptions(session: Session, instance_id: int, before: set[spiff.WaitingMessage],
                       after: set[spiff.WaitingMessage]) -> None:
    """Bring the instance's rows of ``message_subscriptions`` from what it waited for to what it waits for."""
    for stale in before - after:
        session.execute(delete(MessageSubscription).where(
            MessageSubscription.instance_id == instance_id, MessageSubscription.name == stale.name,
            correlates(MessageSubscription.correlation, stale.correlation, exact=True)))
    fresh = after - before
    if fresh:
        session.execute(insert(MessageSubscription), [
            {"instance_id": instance_id, "name": m.name, "correlation": m.correlation} for m in fresh])
