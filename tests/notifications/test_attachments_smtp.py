"""E-mails carrying files, through a real SMTP server (aiosmtpd): the dispatcher reads the bytes through
its port, the channel attaches them under their Chinese names; no file, no e-mail (a retry)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from agencies.blobs import DatabaseBlobStore
from agencies.notices import notify_complainant
from engine.clock import FixedClock
from notifications.channels import SmtpChannel
from notifications.dispatcher import dispatch_pending
from notifications.message import Attachment
from notifications.tables import OutboxMessage
from tests.notifications.conftest import NOW, SMS, Mailbox, World

PDF = b"%PDF-1.7\n% a document\n"


def queue(session_factory: sessionmaker[Session], world: World) -> str:
    store = DatabaseBlobStore()
    with session_factory() as session:
        sha256 = store.put(session, PDF, NOW)
        notify_complainant(session, SMS, complaint_id=world.complaint_id, template="rejection", now=NOW,
                           key="instance:1:v2:rejection:1", context={"agency": "th-amr", "reason": "超过三年"},
                           attachments=[Attachment("不予受理告知书.pdf", sha256)])
        session.commit()
    return sha256


def test_the_email_carries_the_file_under_its_chinese_name_and_the_sms_does_not(
        session_factory: sessionmaker[Session], world: World, smtp_server: Mailbox) -> None:
    queue(session_factory, world)
    store = DatabaseBlobStore()

    def fetch(sha256: str) -> bytes | None:
        with session_factory() as session:
            return store.get(session, sha256)

    report = dispatch_pending(session_factory, {"email": SmtpChannel(smtp_server.url)}, FixedClock(NOW), SMS,
                              fetch=fetch)
    assert (report.sent, report.errors) == (1, [])
    [mail] = smtp_server.received
    [attached] = list(mail.message.iter_attachments())
    assert attached.get_filename() == "不予受理告知书.pdf"
    assert attached.get_content_type() == "application/pdf" and attached.get_content() == PDF
    assert "filename*" in str(attached["Content-Disposition"]) or "utf-8''" in attached.as_string()  # RFC 2231
    assert "决定不予受理" in mail.part("plain")
    with session_factory() as session:
        sms = session.scalars(select(OutboxMessage).where(OutboxMessage.channel == "sms")).one()
        assert sms.attachments is None


def test_without_the_file_the_email_waits_for_a_retry(session_factory: sessionmaker[Session], world: World,
                                                       smtp_server: Mailbox) -> None:
    queue(session_factory, world)
    report = dispatch_pending(session_factory, {"email": SmtpChannel(smtp_server.url)}, FixedClock(NOW), SMS,
                              fetch=lambda sha256: None)
    assert report.sent == 0 and report.retried == 1 and smtp_server.received == []
    with session_factory() as session:
        row = session.scalars(select(OutboxMessage).where(OutboxMessage.channel == "email")).one()
        assert row.status == "retry" and "not found in the file store" in (row.last_error or "")
