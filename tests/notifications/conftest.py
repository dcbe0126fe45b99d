"""Real peers for delivery tests — an SMTP server (aiosmtpd) and an HTTP webhook receiver on
localhost — and a small world of agencies, staff and one complaint in the database."""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy.orm import Session, sessionmaker

from agencies.tables import Agency, Complaint, User
from engine.clock import SHANGHAI
from notifications.config import OutboxConfig

NOW = datetime(2026, 5, 6, 10, 30, tzinfo=SHANGHAI)  # a Wednesday
WEBHOOK_SECRET = "test-webhook-secret-0123456789"
SMTP_USER, SMTP_PASSWORD = "mailer", "s3cret:@/"


CONFIG = OutboxConfig()
"""The outbox settings of a deployment without SMS gateway or template overrides."""
SMS = OutboxConfig(sms_via_webhook=True)
"""… and of one with an SMS gateway."""


# --- the database -----------------------------------------------------------------------------


@dataclass(frozen=True)
class World:
    regulator_id: int  # th-amr, under fy-amr
    parent_id: int  # fy-amr
    liaison_id: int  # liaison, has e-mail
    colleague_id: int  # liaison + enforcement, no e-mail
    supervisor_id: int  # supervisor, has e-mail
    retired_id: int  # inactive liaison
    parent_supervisor_id: int
    complaint_id: int
    tracking_no: str


def _user(session: Session, username: str, agency: Agency, roles: list[str], email: str | None = None,
          active: bool = True) -> User:
    user = User(username=username, display_name=username, password_hash="x", agency_id=agency.id, roles=roles,
                email=email, active=active, created_at=NOW)
    session.add(user)
    session.flush()
    return user


def _agency(session: Session, code: str, name: str, short: str, region: str, parent: Agency | None = None) -> Agency:
    agency = Agency(code=code, name=name, short_name=short, kind="market_regulator", region_code=region,
                    parent_id=parent.id if parent else None)
    session.add(agency)
    session.flush()
    return agency


def add_complaint(session: Session, agency_id: int, *, tracking_no: str = "TS2026050600000018",
                  email: str | None = "zs@example.cn", phone: str = "13812345678") -> Complaint:
    complaint = Complaint(
        tracking_no=tracking_no, tracking_code_hash="x", kind="complaint", status="registered", received_at=NOW,
        received_by_id=agency_id, competent_agency_id=agency_id, complainant_name="张三",
        complainant_phone=phone, complainant_id_number="341222199803152110", complainant_email=email,
        business_name="太和县某某电器商行", business_region_code="341222", category="quality",
        subject="空调安装后不制冷", description="安装后不制冷，商家拒绝维修。", created_at=NOW, updated_at=NOW)
    session.add(complaint)
    session.flush()
    return complaint


def make_world(session_factory: sessionmaker[Session]) -> World:
    with session_factory() as session:
        parent = _agency(session, "fy-amr", "阜阳市市场监督管理局", "阜市监", "341200")
        regulator = _agency(session, "th-amr", "太和县市场监督管理局", "太市监", "341222", parent)
        _agency(session, "lq-amr", "临泉县市场监督管理局", "临市监", "341221", parent)
        liaison = _user(session, "th-amr.liaison", regulator, ["liaison"], "liaison@th-amr.example.cn")
        colleague = _user(session, "th-amr.colleague", regulator, ["liaison", "enforcement"])
        supervisor = _user(session, "th-amr.supervisor", regulator, ["supervisor"], "boss@th-amr.example.cn")
        retired = _user(session, "th-amr.retired", regulator, ["liaison"], "old@th-amr.example.cn", active=False)
        parent_supervisor = _user(session, "fy-amr.supervisor", parent, ["supervisor"], "boss@fy-amr.example.cn")
        complaint = add_complaint(session, regulator.id)
        session.commit()
        return World(regulator.id, parent.id, liaison.id, colleague.id, supervisor.id, retired.id,
                     parent_supervisor.id, complaint.id, complaint.tracking_no)


@pytest.fixture
def world(session_factory: sessionmaker[Session]) -> World:
    return make_world(session_factory)


# --- SMTP -------------------------------------------------------------------------------------


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    tls: bool
    login: str | None

    def part(self, subtype: str) -> str:
        """A body part decoded, with the wire's CRLF line ends made plain newlines again."""
        body = self.message.get_body((subtype,))
        assert body is not None, f"no text/{subtype} part"
        return str(body.get_content()).replace("\r\n", "\n")


@dataclass
class Mailbox:
    url: str = ""
    received: list[Received] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if address in self.refuse:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        login = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message,  # type: ignore[arg-type]
                                      session.ssl is not None, login))
        return "250 OK"


def free_port() -> int:
    """A port nothing listens on (aiosmtpd's Controller needs a concrete one to check its own start-up)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[Mailbox]:
    """A plain SMTP server (no STARTTLS offered)."""
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    mailbox.url = f"smtp://127.0.0.1:{controller.port}"
    try:
        yield mailbox
    finally:
        controller.stop()


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    """A throw-away self-signed certificate for 127.0.0.1 (the openssl command line tool)."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    return Certificate(cert, key)


def _authenticate(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login.decode(), auth_data.password.decode()) == (
        SMTP_USER, SMTP_PASSWORD)
    return AuthResult(success=ok, handled=False, auth_data=auth_data)


@pytest.fixture
def tls_smtp_server(certificate: Certificate) -> Iterator[Mailbox]:
    """An SMTP server offering STARTTLS and requiring it, and AUTH, before any mail."""
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(certificate.cert, certificate.key)
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port(), tls_context=server_context,
                            require_starttls=True, auth_required=True, authenticator=_authenticate)
    controller.start()
    mailbox.url = f"smtp://{SMTP_USER}:s3cret%3A%40%2F@127.0.0.1:{controller.port}"
    try:
        yield mailbox
    finally:
        controller.stop()


# --- webhooks ---------------------------------------------------------------------------------


@dataclass
class Request:
    headers: dict[str, str]
    raw: bytes

    @property
    def body(self) -> dict[str, Any]:
        return json.loads(self.raw)  # type: ignore[no-any-return]


@dataclass
class Hooks:
    url: str = ""
    requests: list[Request] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)
    """Statuses to answer with, in order; 204 once they run out."""


@pytest.fixture
def webhook_server() -> Iterator[Hooks]:
    hooks = Hooks()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers["Content-Length"]))
            hooks.requests.append(Request(dict(self.headers), raw))
            self.send_response(hooks.answers.pop(0) if hooks.answers else 204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    hooks.url = f"http://127.0.0.1:{server.server_address[1]}/sms"
    try:
        yield hooks
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
