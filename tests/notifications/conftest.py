"""Real peers for delivery tests: an SMTP server (aiosmtpd) and an HTTP webhook receiver, on localhost."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy.orm import Session, sessionmaker

from agencies.complaints import register_complaint
from agencies.demo import seed_demo
from agencies.intake import parse_complaint
from agencies.repository import get_agency_by_code
from agencies.tables import Complaint
from notifications.channels import SIGNATURE_HEADER, sign
from tests.agencies.factories import NOW, complaint_payload

WEBHOOK_SECRET = "test-webhook-secret"


@dataclass
class Mailbox:
    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        message["X-Envelope-To"] = ",".join(envelope.rcpt_tos)
        self.messages.append(message)  # type: ignore[arg-type]
        return "250 OK"


@pytest.fixture
def smtp_server() -> Iterator[tuple[str, Mailbox]]:
    mailbox = Mailbox()
    with socket.socket() as probe:  # aiosmtpd needs a concrete port to check its own start-up
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield f"smtp://127.0.0.1:{controller.port}", mailbox
    finally:
        controller.stop()


@dataclass
class Hooks:
    received: list[dict[str, Any]] = field(default_factory=list)
    signatures_valid: list[bool] = field(default_factory=list)
    fail_next: int = 0


@pytest.fixture
def webhook_server() -> Iterator[tuple[str, Hooks]]:
    hooks = Hooks()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            hooks.signatures_valid.append(self.headers[SIGNATURE_HEADER] == sign(body, WEBHOOK_SECRET))
            if hooks.fail_next > 0:
                hooks.fail_next -= 1
                self.send_response(500)
                self.end_headers()
                return
            hooks.received.append({"headers": dict(self.headers), "body": json.loads(body)})
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", hooks
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def complaint(session_factory: sessionmaker[Session]) -> Complaint:
    """Demo agencies and users, and one complaint with an email address."""
    with session_factory() as session:
        seed_demo(session, "demo-password", now=NOW)
        agency = get_agency_by_code(session, "th-amr")
        data = parse_complaint(complaint_payload(), NOW)
        row, _code = register_complaint(session, data, received_by=agency, competent=agency, now=NOW)
        session.commit()
        return row
