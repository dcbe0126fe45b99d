"""E-mail over SMTP (``SMTP_URL``), with the row's idempotency key as the ``Message-ID``.

URL forms — credentials optional, percent-encoded:
- ``smtp://user:pass@host:25``: STARTTLS when the server offers it, plain otherwise;
- ``smtp+starttls://host:587``: STARTTLS required (a server not offering it is a failure);
- ``smtps://host:465``: TLS from the first byte.
Credentials are only ever sent over an encrypted connection.
"""

from __future__ import annotations

import contextlib
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from urllib.parse import unquote, urlsplit

from notifications.errors import DeliveryError, PermanentDeliveryError
from notifications.message import Envelope

KEY_HEADER = "X-Idempotency-Key"
SCHEMES = {"smtp": (25, "opportunistic"), "smtp+starttls": (587, "starttls"), "smtps": (465, "tls")}


def build_message(envelope: Envelope, sender: str) -> EmailMessage:
    """A multipart/alternative (text + HTML) UTF-8 message; Chinese headers are RFC 2047-encoded. With
    attachments, a multipart/mixed message around it, each file's Chinese name RFC 2231-encoded
    (``filename*=utf-8''…``). A named file whose bytes were not read is a failed attempt, never an e-mail
    without it."""
    message = EmailMessage()
    message["Subject"] = envelope.subject
    message["From"] = sender
    message["To"] = envelope.recipient
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = f"<{envelope.idempotency_key}@{_domain(sender)}>"
    message[KEY_HEADER] = envelope.idempotency_key
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation auto-replies back to us
    message.set_content(envelope.text, charset="utf-8")
    if envelope.html:
        message.add_alternative(envelope.html, subtype="html", charset="utf-8")
    for attachment in envelope.attachments:
        if not attachment.data:
            raise DeliveryError(f"smtp: attachment {attachment.filename!r} was not read")
        maintype, _, subtype = attachment.content_type.partition("/")
        message.add_attachment(attachment.data, maintype=maintype or "application",
                               subtype=subtype or "octet-stream", filename=attachment.filename)
    return message


def _domain(sender: str) -> str:
    address = parseaddr(sender)[1]
    return address.rpartition("@")[2] or "complaintflow.invalid"


@dataclass
class SmtpChannel:
    url: str
    sender: str = "complaintflow@localhost"
    timeout: float = 10.0
    ssl_context: ssl.SSLContext | None = field(default=None, repr=False)
    """Trust for the server's certificate; the system's default trust store when ``None``."""

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in SCHEMES or not parts.hostname:
            raise ValueError(f"SMTP_URL must look like smtp://host:port, smtp+starttls://… or smtps://…, "
                             f"not {parts.scheme or '(no scheme)'}://…")
        default_port, self._mode = SCHEMES[parts.scheme]
        self._host, self._port = parts.hostname, parts.port or default_port
        self._username = unquote(parts.username) if parts.username else None
        self._password = unquote(parts.password or "")
        if "@" not in parseaddr(self.sender)[1]:
            raise ValueError(f"the mail sender {self.sender!r} is not an e-mail address")

    def __repr__(self) -> str:  # never the password
        return f"SmtpChannel({self._mode}, {self._host}:{self._port}, user={self._username!r})"

    def send(self, envelope: Envelope) -> None:
        message = build_message(envelope, self.sender)
        context = self.ssl_context or ssl.create_default_context()
        try:
            client = (smtplib.SMTP_SSL(self._host, self._port, timeout=self.timeout, context=context)
                      if self._mode == "tls" else smtplib.SMTP(self._host, self._port, timeout=self.timeout))
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"smtp: cannot connect to {self._host}:{self._port}: {exc}") from exc
        try:
            self._deliver(client, context, message, envelope.recipient)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            error = PermanentDeliveryError if codes and min(codes) >= 500 else DeliveryError
            raise error(f"smtp: recipient refused ({', '.join(map(str, codes))})") from exc
        except smtplib.SMTPDataError as exc:
            error = PermanentDeliveryError if exc.smtp_code >= 500 else DeliveryError
            raise error(f"smtp: message refused: {exc.smtp_code} {_text(exc.smtp_error)}") from exc
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(f"smtp: {exc.smtp_code} {_text(exc.smtp_error)}") from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"smtp: {type(exc).__name__}: {exc}") from exc
        finally:
            # the message is already accepted: a failing QUIT must not turn it into a retry
            with contextlib.suppress(OSError, smtplib.SMTPException):
                client.quit()
            client.close()

    def _deliver(self, client: smtplib.SMTP, context: ssl.SSLContext, message: EmailMessage, recipient: str) -> None:
        client.ehlo()
        encrypted = self._mode == "tls"
        if not encrypted and client.has_extn("starttls"):
            client.starttls(context=context)
            client.ehlo()
            encrypted = True
        if self._mode == "starttls" and not encrypted:
            raise DeliveryError("smtp: the server does not offer STARTTLS, which SMTP_URL requires")
        if self._username:
            if not encrypted:
                raise DeliveryError("smtp: refusing to send credentials over an unencrypted connection")
            client.login(self._username, self._password)
        client.send_message(message, from_addr=parseaddr(self.sender)[1], to_addrs=[recipient])


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value
