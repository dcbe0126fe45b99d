"""What a channel is given to send, and what a channel is.

Channels get an immutable ``Envelope`` — a copy of the outbox row taken when it was claimed — not
the ORM object: sending happens outside any transaction, and nothing a channel does can touch the
row. A channel either returns (delivered) or raises ``DeliveryError``; the dispatcher owns retries.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from notifications.tables import OutboxMessage

FetchFile = Callable[[str], bytes | None]
"""The port through which the dispatcher reads an attachment's bytes by their SHA-256 (``None``: no such
file). The product's wiring passes one in that reads its file store; this package stores no files."""


@dataclass(frozen=True)
class Attachment:
    """A file an e-mail carries: named on the outbox row by the SHA-256 of its bytes; ``data`` is filled
    in by the dispatcher just before sending (through its ``FetchFile`` port), empty until then."""

    filename: str
    sha256: str
    content_type: str = "application/pdf"
    data: bytes = b""

    def as_row(self) -> dict[str, str]:
        return {"filename": self.filename, "sha256": self.sha256, "content_type": self.content_type}

    @classmethod
    def of_row(cls, value: Mapping[str, Any]) -> Attachment:
        return cls(str(value["filename"]), str(value["sha256"]), str(value.get("content_type") or
                                                                     "application/octet-stream"))


def attachments_of_row(values: Sequence[Mapping[str, Any]] | None) -> tuple[Attachment, ...]:
    return tuple(Attachment.of_row(value) for value in values or ())


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
    attachments: tuple[Attachment, ...] = ()
    """Files an e-mail carries (the SMS and in-app channels ignore them)."""

    @classmethod
    def of(cls, row: OutboxMessage) -> Envelope:
        return cls(row.id, row.idempotency_key, row.channel, row.recipient, row.template, row.subject,
                   row.body_text, row.body_html, row.complaint_id, row.created_at, row.attempts,
                   attachments_of_row(row.attachments))


class Channel(Protocol):
    def send(self, envelope: Envelope) -> None:
        """Deliver or raise ``DeliveryError`` (``PermanentDeliveryError`` when a retry cannot help)."""
        ...
