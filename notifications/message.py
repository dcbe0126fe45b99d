"""What a channel is given to send, and what a channel is.

Channels get an immutable ``Envelope`` — a copy of the outbox row taken when it was claimed — not
the ORM object: sending happens outside any transaction, and nothing a channel does can touch the
row. A channel either returns (delivered) or raises ``DeliveryError``; the dispatcher owns retries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from notifications.tables import OutboxMessage


@dataclass(frozen=True)
class Envelope:
    outbox_id: int
    idempotency_key: str
    """The same on every attempt: e-mail ``Message-ID``, webhook ``X-Idempotency-Key``."""
    channel: str
    recipient: str
    template: str
    subject: str
    text: str
    html: str
    complaint_id: int | None
    created_at: datetime
    attempt: int
    """1 for the first send of the row, 2 for the next, …"""

    @classmethod
    def of(cls, row: OutboxMessage) -> Envelope:
        return cls(row.id, row.idempotency_key, row.channel, row.recipient, row.template, row.subject,
                   row.body_text, row.body_html, row.complaint_id, row.created_at, row.attempts)


class Channel(Protocol):
    def send(self, envelope: Envelope) -> None:
        """Deliver or raise ``DeliveryError`` (``PermanentDeliveryError`` when a retry cannot help)."""
        ...
