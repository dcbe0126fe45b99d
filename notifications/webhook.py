"""Signed JSON webhooks: how an SMS gateway (or another platform) receives notices.

``POST`` of a UTF-8 JSON body with
- ``X-Complaintflow-Signature: sha256=<hex HMAC-SHA256 of the raw body with the shared secret>``,
- ``X-Idempotency-Key: <the row's key>`` (also ``id`` in the body): the same on every retry.
2xx is delivered; 408, 425, 429, 5xx and network errors are retried; any other answer (4xx: the
request itself is wrong) dead-letters the notice at once. Redirects are not followed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from notifications.errors import DeliveryError, PermanentDeliveryError
from notifications.message import Envelope

SIGNATURE_HEADER = "X-Complaintflow-Signature"
KEY_HEADER = "X-Idempotency-Key"
RETRYABLE_4XX = frozenset({408, 425, 429})


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(body: bytes, signature: str | None, secret: str) -> bool:
    """For receivers (and tests): does the header match the raw body? Constant-time comparison."""
    return signature is not None and hmac.compare_digest(signature, sign(body, secret))


def payload(envelope: Envelope) -> dict[str, Any]:
    return {
        "id": envelope.idempotency_key, "event": envelope.template, "channel": envelope.channel,
        "to": envelope.recipient, "subject": envelope.subject, "text": envelope.text,
        "complaint_id": envelope.complaint_id, "created_at": envelope.created_at.isoformat(),
    }


@dataclass
class WebhookChannel:
    url: str
    secret: str = field(repr=False)
    timeout: float = 10.0
    transport: httpx.BaseTransport | None = field(default=None, repr=False)
    """For tests with ``httpx.MockTransport``; the network otherwise."""

    def __post_init__(self) -> None:
        if urlsplit(self.url).scheme not in ("http", "https"):
            raise ValueError(f"the webhook URL must be http(s)://…, not {self.url!r}")
        if not self.secret:
            raise ValueError("a webhook needs a signing secret (COMPLAINTFLOW_WEBHOOK_SECRET)")

    def send(self, envelope: Envelope) -> None:
        body = json.dumps(payload(envelope), ensure_ascii=False, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "complaintflow-notifier",
                   SIGNATURE_HEADER: sign(body, self.secret), KEY_HEADER: envelope.idempotency_key}
        try:
            with httpx.Client(timeout=self.timeout, transport=self.transport, follow_redirects=False) as client:
                response = client.post(self.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"webhook: {type(exc).__name__}: {exc}") from exc
        if response.is_success:
            return
        status = response.status_code
        retryable = status >= 500 or status in RETRYABLE_4XX or status < 400
        raise (DeliveryError if retryable else PermanentDeliveryError)(f"webhook: HTTP {status}")
