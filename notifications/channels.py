"""Delivery channels: email over SMTP, signed webhooks (an SMS gateway or another platform), in-app.

A channel's ``send`` either returns (delivered) or raises ``DeliveryError``; the dispatcher owns
retries. Every send carries the row's idempotency key so a receiver can drop a repeat.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate
from typing import Protocol
from urllib.parse import unquote, urlsplit

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from notifications.tables import InAppNotice, OutboxMessage

SIGNATURE_HEADER = "X-Complaintflow-Signature"
KEY_HEADER = "X-Idempotency-Key"


class DeliveryError(Exception):
    pass


class Channel(Protocol):
    def send(self, message: OutboxMessage) -> None: ...


def idempotency_key(message: OutboxMessage) -> str:
    """One stable key per outbox row (the caller's key names the event; a row adds channel and recipient)."""
    raw = f"{message.key}|{message.channel}|{message.recipient}"
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


@dataclass
class SmtpChannel:
    """``smtp://user:pass@host:port`` (STARTTLS when the server offers it) or ``smtps://`` (TLS from the start)."""

    url: str
    sender: str = "complaintflow@localhost"
    timeout: float = 10.0

    def send(self, message: OutboxMessage) -> None:
        parts = urlsplit(self.url)
        email = EmailMessage()
        email["Subject"] = message.subject
        email["From"] = self.sender
        email["To"] = message.recipient
        email["Date"] = formatdate(localtime=False)
        email["Message-ID"] = f"<{idempotency_key(message)}@complaintflow>"
        email[KEY_HEADER] = idempotency_key(message)
        email.set_content(message.body_text)
        email.add_alternative(message.body_html, subtype="html")
        smtp_class = smtplib.SMTP_SSL if parts.scheme == "smtps" else smtplib.SMTP
        try:
            with smtp_class(parts.hostname or "localhost", parts.port or (465 if parts.scheme == "smtps" else 25),
                            timeout=self.timeout) as client:
                client.ehlo()
                if parts.scheme != "smtps" and client.has_extn("starttls"):
                    client.starttls()
                    client.ehlo()
                if parts.username:
                    client.login(unquote(parts.username), unquote(parts.password or ""))
                client.send_message(email)
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"smtp: {exc}") from exc


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class WebhookChannel:
    """POST the notice as JSON, signed with HMAC-SHA256 over the raw body."""

    url: str
    secret: str
    timeout: float = 10.0
    transport: httpx.BaseTransport | None = None

    def send(self, message: OutboxMessage) -> None:
        body = json.dumps({
            "key": idempotency_key(message), "channel": message.channel, "recipient": message.recipient,
            "template": message.template, "subject": message.subject, "text": message.body_text,
            "complaint_id": message.complaint_id,
        }, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json; charset=utf-8", SIGNATURE_HEADER: sign(body, self.secret),
                   KEY_HEADER: idempotency_key(message)}
        try:
            with httpx.Client(timeout=self.timeout, transport=self.transport) as client:
                response = client.post(self.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"webhook: {exc}") from exc
        if not response.is_success:
            raise DeliveryError(f"webhook: HTTP {response.status_code}")


@dataclass
class InAppChannel:
    """Puts the notice in the user's inbox; the unique outbox id makes a resend a no-op."""

    session_factory: sessionmaker[Session]

    def send(self, message: OutboxMessage) -> None:
        with self.session_factory() as session:
            if session.scalar(select(InAppNotice.id).where(InAppNotice.outbox_id == message.id)) is None:
                session.add(InAppNotice(outbox_id=message.id, user_id=message.user_id, template=message.template,
                                        subject=message.subject, body=message.body_text,
                                        complaint_id=message.complaint_id, created_at=message.created_at))
                session.commit()


@dataclass
class CapturingChannel:
    """Test double: remembers what it was asked to send, and can fail the first N sends."""

    fail_times: int = 0
    sent: list[OutboxMessage] = field(default_factory=list)

    def send(self, message: OutboxMessage) -> None:
        if self.fail_times > 0:
            self.fail_times -= 1
            raise DeliveryError("simulated failure")
        self.sent.append(message)


def build_channels(session_factory: sessionmaker[Session], smtp_url: str | None, webhook_url: str | None,
                   webhook_secret: str | None, sender: str = "complaintflow@localhost") -> dict[str, Channel]:
    channels: dict[str, Channel] = {"in_app": InAppChannel(session_factory)}
    if smtp_url:
        channels["email"] = SmtpChannel(smtp_url, sender)
    if webhook_url and webhook_secret:
        channels["sms"] = WebhookChannel(webhook_url, webhook_secret)
        channels["webhook"] = channels["sms"]
    return channels
