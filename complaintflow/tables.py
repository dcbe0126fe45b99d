"""The application's own state, beside the domain's: revoked tokens (logout) and rate-limited events.

Neither belongs to the engine or to the agencies' domain; both are written by the service layer
(``complaintflow.services``) and read by the web layer above it, so they live here, below ``web``.
The table names are those migration 0003 (and 0001) created."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.db.base import Base


class RevokedToken(Base):
    """A signed-out token, refused until it would have expired anyway."""

    __tablename__ = "revoked_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class RateLimitEvent(Base):
    """One counted event (a failed login, a public submission) under a limiter's key.

    Kept in the database so that every server process counts the same events and a restart forgets
    none; rows older than the longest window are deleted as new ones arrive."""

    __tablename__ = "rate_limit_events"
    __table_args__ = (Index("ix_rate_limit_events_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    key: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(index=True)
