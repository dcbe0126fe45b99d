"""Outbox, in-app notices and recipient preferences.

An outbox row's life (``status``):

    pending ──send ok──▶ sent
       │  ╲
       │   ╲ send failed ──▶ retry ──(…)──▶ sent
       │                      │
       │                      └─ max_attempts reached, or refused for good ──▶ dead ──admin──▶ retry
       └ (a reminder e-mail of a user who wants a digest) held ──digest time──▶ digested (+ one digest row)

A row is claimed by a dispatcher with a lease (``acquired_by`` / ``acquired_until``) instead of a
status, so a dispatcher that dies mid-send leaves nothing stuck: the lease expires and any
dispatcher takes the row again.

The foreign keys to ``users.id`` name the table, not its class: this package knows nothing of the
domain's tables. Whoever needs the whole schema loads every table module (``complaintflow.schema``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.db.base import Base
from engine.db.tables import BigId
from notifications.vocab import Status, sql_in


class OutboxMessage(Base):
    """One notice to one recipient on one channel, written in the transaction that caused it.

    ``key`` is the caller's deterministic key for the event: the same (key, channel, recipient) is
    never queued twice. ``idempotency_key`` is derived from the three and travels with every send
    of the row (e-mail ``Message-ID``, webhook header), so a receiver can drop a repeat.
    The text is rendered at enqueue time: every retry sends exactly the same words.
    ``attachments`` names the files an e-mail carries (``[{filename, sha256, content_type}]``, see
    ``notifications.message.Attachment``); the bytes stay in the product's file store.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("key", "channel", "recipient"),
        CheckConstraint(f"status IN ({sql_in(Status)})", name="status"),
        Index("ix_outbox_status_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(20))
    recipient: Mapped[str] = mapped_column(String(255))
    idempotency_key: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    complaint_id: Mapped[int | None] = mapped_column(BigId, index=True)
    template: Mapped[str] = mapped_column(String(50))
    context: Mapped[dict[str, Any]] = mapped_column(JSON)
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    attachments: Mapped[list[dict[str, str]] | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    acquired_by: Mapped[str | None] = mapped_column(String(100))
    acquired_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    digest_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"))
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    dead_at: Mapped[datetime | None]


class InAppNotice(Base):
    """A notice in a user's inbox (``/api/v1/notifications``); one per in-app outbox row."""

    __tablename__ = "in_app_notices"
    __table_args__ = (Index("ix_in_app_notices_user_created", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id"), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    template: Mapped[str] = mapped_column(String(50))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    complaint_id: Mapped[int | None] = mapped_column(BigId)
    created_at: Mapped[datetime]
    read_at: Mapped[datetime | None]


class NotificationPreference(Base):
    """The channels a user wants, and whether reminder e-mails come as one daily digest.

    Without a row: in-app and e-mail (when the user has an address), reminders one by one.
    In-app is always on: the inbox is where staff work, whatever else they choose.
    """

    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, autoincrement=False)
    channels: Mapped[list[str]] = mapped_column(JSON)
    digest_reminders: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime]
