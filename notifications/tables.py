"""Outbox, in-app notices and recipient preferences."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.db.base import Base
from engine.db.tables import BigId


class OutboxMessage(Base):
    """One notice to one recipient on one channel, written in the transaction that caused it.

    ``key`` is the caller's idempotency key: the same (key, channel, recipient) is never queued twice,
    and every send of the row carries it (email ``Message-ID``, webhook header)."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("key", "channel", "recipient"),
        Index("ix_outbox_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(20))  # email | sms | webhook | in_app
    recipient: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[int | None] = mapped_column(BigId, index=True)
    complaint_id: Mapped[int | None] = mapped_column(BigId, index=True)
    template: Mapped[str] = mapped_column(String(50))
    context: Mapped[dict[str, Any]] = mapped_column(JSON)
    subject: Mapped[str] = mapped_column(String(300), default="")
    body_text: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending | digest | sent | dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    acquired_by: Mapped[str | None] = mapped_column(String(100))
    acquired_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class InAppNotice(Base):
    """A notice in a user's inbox (``/api/v1/notifications``)."""

    __tablename__ = "in_app_notices"
    __table_args__ = (Index("ix_in_app_notices_user_created", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id"), unique=True)
    user_id: Mapped[int] = mapped_column(BigId)
    template: Mapped[str] = mapped_column(String(50))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    complaint_id: Mapped[int | None] = mapped_column(BigId)
    created_at: Mapped[datetime]
    read_at: Mapped[datetime | None]


class NotificationPreference(Base):
    """Which channels a user wants; without a row: in-app always, email when the user has an address."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    email: Mapped[bool] = mapped_column(Boolean, default=True)
    digest_reminders: Mapped[bool] = mapped_column(Boolean, default=False)
