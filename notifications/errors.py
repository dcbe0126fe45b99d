"""Errors the notifications package raises on purpose, each carrying the data a caller needs.

    NotificationError
    ├── TemplateError            (a notice cannot be rendered: raised at enqueue, so the transition fails)
    │   └── UnknownTemplate      (no template of that name, built in or overridden)
    ├── DeliveryError            (a channel could not deliver; the dispatcher retries with backoff)
    │   └── PermanentDeliveryError  (retrying the same bytes cannot help: dead-lettered at once)
    └── NotDeadLetter            (an admin asked to retry a row that is not dead-lettered; also a LookupError)
"""

from __future__ import annotations


class NotificationError(Exception):
    """Base of every error this package reports on purpose."""


class TemplateError(NotificationError):
    """A template failed to render with the context given (a missing variable, a syntax error)."""

    def __init__(self, template: str, reason: str) -> None:
        super().__init__(f"notice template {template!r}: {reason}")
        self.template = template
        self.reason = reason


class UnknownTemplate(TemplateError):
    def __init__(self, template: str, known: tuple[str, ...]) -> None:
        super().__init__(template, f"unknown template; known templates: {', '.join(known)}")
        self.known = known


class DeliveryError(NotificationError):
    """A send failed in a way that may pass (server down, timeout, HTTP 5xx): retry later."""


class PermanentDeliveryError(DeliveryError):
    """A send was refused for good (mailbox unknown, HTTP 4xx): retrying would fail the same way."""


class NotDeadLetter(NotificationError, LookupError):
    def __init__(self, outbox_id: int) -> None:
        super().__init__(f"outbox row {outbox_id} is not a dead letter")
        self.outbox_id = outbox_id
