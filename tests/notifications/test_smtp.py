"""Real mail through a real SMTP server (aiosmtpd on localhost): what arrives is what the complainant reads."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from agencies.notices import notify_complainant
from engine.clock import FixedClock
from notifications.channels import SmtpChannel
from notifications.dispatcher import dispatch_pending
from notifications.errors import DeliveryError, PermanentDeliveryError
from notifications.message import Envelope
from notifications.tables import OutboxMessage
from tests.notifications.conftest import CONFIG, NOW, SMTP_USER, Certificate, Mailbox, World, free_port

SENDER = "消费投诉平台 <noreply@amr.example.cn>"


def envelope(recipient: str = "zs@example.cn") -> Envelope:
    return Envelope(outbox_id=1, idempotency_key="0123456789abcdef0123456789abcdef", channel="email",
                    recipient=recipient, template="acceptance", subject="投诉受理告知（TS2026050600000018）",
                    text="张三：\n您好！已受理。", html="<p>张三：</p><p>您好！已受理。</p>", complaint_id=1,
                    created_at=NOW, attempt=1)


def test_a_rejection_arrives_in_chinese_with_its_key_as_message_id(
        session_factory: sessionmaker[Session], world: World, smtp_server: Mailbox) -> None:
    with session_factory() as session:
        notify_complainant(session, CONFIG, complaint_id=world.complaint_id, template="rejection", now=NOW,
                           key="instance:1:v2:rejection:1",
                           context={"agency": "th-amr", "reason": "商品已超过三包有效期 <请核实>"})
        session.commit()
    report = dispatch_pending(session_factory, {"email": SmtpChannel(smtp_server.url, SENDER)}, FixedClock(NOW), CONFIG)
    assert (report.claimed, report.sent, report.errors) == (1, 1, [])

    [mail] = smtp_server.received
    assert mail.rcpt_tos == ["zs@example.cn"] and mail.mail_from == "noreply@amr.example.cn"
    message = mail.message
    assert message["To"] == "zs@example.cn"
    assert message["From"] == SENDER
    assert message["Subject"] == f"投诉不予受理告知（{world.tracking_no}）"  # decoded from RFC 2047
    text = mail.part("plain")
    assert text.startswith("张三：\n") and "经太和县市场监督管理局审查，决定不予受理。" in text
    assert "理由：商品已超过三包有效期 <请核实>" in text
    assert "理由：商品已超过三包有效期 &lt;请核实&gt;" in mail.part("html")
    with session_factory() as session:
        row = session.scalars(select(OutboxMessage)).one()
        assert message["Message-ID"] == f"<{row.idempotency_key}@amr.example.cn>"
        assert message["X-Idempotency-Key"] == row.idempotency_key
        assert (row.status, row.attempts, row.sent_at, row.last_error) == ("sent", 1, NOW, None)


def test_starttls_is_used_when_offered_and_credentials_only_over_it(tls_smtp_server: Mailbox,
                                                                   certificate: Certificate) -> None:
    channel = SmtpChannel(tls_smtp_server.url, SENDER, ssl_context=certificate.client_context())
    channel.send(envelope())
    [mail] = tls_smtp_server.received
    assert (mail.tls, mail.login, mail.rcpt_tos) == (True, SMTP_USER, ["zs@example.cn"])
    assert mail.message["Subject"] == "投诉受理告知（TS2026050600000018）"
    assert "s3cret" not in repr(channel)


def test_an_untrusted_certificate_is_a_failure(tls_smtp_server: Mailbox) -> None:
    with pytest.raises(DeliveryError, match="CERTIFICATE_VERIFY_FAILED"):
        SmtpChannel(tls_smtp_server.url, SENDER).send(envelope())
    assert tls_smtp_server.received == []


def test_a_required_starttls_that_is_not_offered_is_a_failure(smtp_server: Mailbox) -> None:
    url = smtp_server.url.replace("smtp://", "smtp+starttls://")
    with pytest.raises(DeliveryError, match="does not offer STARTTLS"):
        SmtpChannel(url, SENDER).send(envelope())
    assert smtp_server.received == []


def test_credentials_are_never_sent_in_clear(smtp_server: Mailbox) -> None:
    url = smtp_server.url.replace("smtp://", "smtp://user:pw@")
    with pytest.raises(DeliveryError, match="refusing to send credentials over an unencrypted connection"):
        SmtpChannel(url, SENDER).send(envelope())


def test_an_unknown_mailbox_is_dead_lettered_at_once(session_factory: sessionmaker[Session], world: World,
                                                    smtp_server: Mailbox) -> None:
    smtp_server.refuse.add("zs@example.cn")
    with pytest.raises(PermanentDeliveryError, match=r"recipient refused \(550\)"):
        SmtpChannel(smtp_server.url, SENDER).send(envelope())
    with session_factory() as session:
        notify_complainant(session, CONFIG, complaint_id=world.complaint_id, template="acceptance",
                           context={"agency": "th-amr"}, key="k", now=NOW)
        session.commit()
    report = dispatch_pending(session_factory, {"email": SmtpChannel(smtp_server.url, SENDER)}, FixedClock(NOW), CONFIG)
    assert (report.sent, report.retried, report.dead) == (0, 0, 1)
    with session_factory() as session:
        row = session.scalars(select(OutboxMessage)).one()
        assert (row.status, row.attempts, row.dead_at) == ("dead", 1, NOW)
        assert row.last_error == "smtp: recipient refused (550)"


def test_a_server_that_is_down_is_a_transient_failure() -> None:
    with pytest.raises(DeliveryError, match="cannot connect") as caught:
        SmtpChannel(f"smtp://127.0.0.1:{free_port()}", SENDER, timeout=2).send(envelope())
    assert not isinstance(caught.value, PermanentDeliveryError)


@pytest.mark.parametrize("url", ["http://mail.example.cn", "smtp://", "mail.example.cn:25"])
def test_a_bad_smtp_url_fails_at_start_up(url: str) -> None:
    with pytest.raises(ValueError, match="SMTP_URL must look like"):
        SmtpChannel(url)
