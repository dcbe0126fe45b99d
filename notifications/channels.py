"""The channels a dispatcher sends through, built from settings, and a capturing test double.

Channel names are the outbox's ``channel`` values: ``email`` (SMTP, with the files a row names attached)
and ``sms`` (the complainant's phone, through the signed webhook of an SMS gateway; text only, files are
not sent). In-app notices need no channel: they are
written into the inbox in the transaction that queues them (see ``notifications.outbox``).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field

from notifications.errors import DeliveryError, PermanentDeliveryError
from notifications.message import Channel, Envelope
from notifications.smtp import SmtpChannel
from notifications.vocab import ChannelName
from notifications.webhook import KEY_HEADER, SIGNATURE_HEADER, WebhookChannel, sign, verify_signature

__all__ = ["KEY_HEADER", "SIGNATURE_HEADER", "CapturingChannel", "Channel", "Envelope", "SmtpChannel",
           "WebhookChannel", "build_channels", "sign", "verify_signature"]


def build_channels(smtp_url: str | None, webhook_url: str | None, webhook_secret: str | None,
                   sender: str = "complaintflow@localhost") -> dict[str, Channel]:
    """The configured channels by name. A webhook URL without a secret is refused, not ignored:
    unsigned notices, or silently none, would both be worse than a failed start.
    The wiring passes the deployment's settings in (``complaintflow.wiring.outbox_channels``)."""
    channels: dict[str, Channel] = {}
    if smtp_url:
        channels[ChannelName.EMAIL.value] = SmtpChannel(smtp_url, sender)
    if webhook_url or webhook_secret:
        if not (webhook_url and webhook_secret):
            raise ValueError("COMPLAINTFLOW_WEBHOOK_URL and COMPLAINTFLOW_WEBHOOK_SECRET must be set together")
        channels[ChannelName.SMS.value] = WebhookChannel(webhook_url, webhook_secret)
    return channels


@dataclass
class CapturingChannel:
    """Test double in the spirit of httpx's ``MockTransport``: remembers every envelope it is given
    and can fail the first ``fail_times`` sends (permanently, if asked)."""

    fail_times: int = 0
    permanent: bool = False
    sent: list[Envelope] = field(default_factory=list)
    attempts: list[Envelope] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def send(self, envelope: Envelope) -> None:
        with self._lock:
            self.attempts.append(envelope)
            if self.fail_times > 0:
                self.fail_times -= 1
                raise (PermanentDeliveryError if self.permanent else DeliveryError)("simulated failure")
            self.sent.append(envelope)

    def by_recipient(self) -> Mapping[str, list[Envelope]]:
        grouped: dict[str, list[Envelope]] = {}
        for envelope in self.sent:
            grouped.setdefault(envelope.recipient, []).append(envelope)
        return grouped
