"""Real delivery: mail through an SMTP server, signed webhooks, retries, dead letters, crashes, races."""

from __future__ import annotations

import threading
from datetime import timedelta
from email.message import EmailMessage

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from agencies.repository import get_user
from agencies.tables import Complaint
from engine.clock import FixedClock
from notifications import outbox
from notifications.channels import CapturingChannel, InAppChannel, SmtpChannel, WebhookChannel, idempotency_key
from notifications.dispatcher import LEASE, claim, dispatch_pending, release_digests, retry_dead
from notifications.inbox import list_notices, mark_read
from notifications.tables import OutboxMessage
from tests.agencies.factories import NOW
from tests.notifications.conftest import WEBHOOK_SECRET, Hooks, Mailbox


def queue(session_factory: sessionmaker[Session], complaint: Complaint, template: str = "rejection",
          key: str = "instance:1:v2:rejection:1") -> None:
    with session_factory() as session:
        outbox.notify_complainant(session, complaint_id=complaint.id, template=template, key=key, now=NOW,
                                  context={"agency": "th-amr", "reason": "不属于本部门职责范围"})
        session.commit()


def statuses(session_factory: sessionmaker[Session]) -> list[tuple[str, str, int]]:
    with session_factory() as session:
        return list(session.execute(select(OutboxMessage.channel, OutboxMessage.status, OutboxMessage.attempts)
                                    .order_by(OutboxMessage.id)).all())


def test_a_rejection_arrives_by_mail_in_chinese_with_its_key(
        session_factory: sessionmaker[Session], complaint: Complaint, smtp_server: tuple[str, Mailbox]) -> None:
    url, mailbox = smtp_server
    queue(session_factory, complaint)
    report = dispatch_pending(session_factory, {"email": SmtpChannel(url)}, FixedClock(NOW))
    assert report.sent == 1
    [mail] = mailbox.messages
    assert mail["X-Envelope-To"] == "zs@example.cn"
    assert mail["Subject"] == f"投诉不予受理告知（{complaint.tracking_no}）"
    body = mail.get_body(("plain",))
    assert isinstance(mail, EmailMessage) and body is not None
    text = body.get_content()
    assert "太和县市场监督管理局" in text and "不属于本部门职责范围" in text and "张三" in text
    with session_factory() as session:
        row = session.scalar(select(OutboxMessage))
        assert mail["Message-ID"] == f"<{idempotency_key(row)}@complaintflow>"
        assert row.status == "sent" and row.sent_at == NOW


def test_webhooks_are_signed_retried_with_backoff_then_dead_lettered_and_retried_by_an_admin(
        session_factory: sessionmaker[Session], complaint: Complaint, webhook_server: tuple[str, Hooks]) -> None:
    url, hooks = webhook_server
    outbox.configure(sms_via_webhook=True, templates_dir=None)
    try:
        queue(session_factory, complaint)
    finally:
        outbox.configure(sms_via_webhook=False, templates_dir=None)
    channels = {"sms": WebhookChannel(url, WEBHOOK_SECRET), "email": CapturingChannel()}
    clock = FixedClock(NOW)
    hooks.fail_next = 2
    assert dispatch_pending(session_factory, channels, clock).retried == 1  # 500
    assert dispatch_pending(session_factory, channels, clock).retried == 0  # not due yet: backing off
    clock.advance(timedelta(seconds=30))
    assert dispatch_pending(session_factory, channels, clock).retried == 1  # 500 again
    clock.advance(timedelta(seconds=59))
    assert dispatch_pending(session_factory, channels, clock).sent == 0  # backoff doubled to 60 s
    clock.advance(timedelta(seconds=1))
    assert dispatch_pending(session_factory, channels, clock).sent == 1
    [delivery] = hooks.received
    assert all(hooks.signatures_valid) and len(hooks.signatures_valid) == 3
    assert delivery["body"]["recipient"] == "13812345678" and "不予受理" in delivery["body"]["text"]
    keys = {delivery["headers"]["X-Idempotency-Key"]}

    with session_factory() as session:  # a second notice whose receiver is down for good
        outbox.Settings.sms_via_webhook = True
        outbox.notify_complainant(session, complaint_id=complaint.id, template="acceptance", key="k2", now=NOW,
                                  context={"agency": "th-amr"})
        outbox.Settings.sms_via_webhook = False
        session.commit()
    hooks.fail_next = 100
    for _ in range(8):
        clock.advance(timedelta(hours=7))
        dispatch_pending(session_factory, {"sms": channels["sms"], "email": CapturingChannel()}, clock,
                         max_attempts=5)
    with session_factory() as session:
        dead = session.scalar(select(OutboxMessage).where(OutboxMessage.key == "k2", OutboxMessage.channel == "sms"))
        assert (dead.status, dead.attempts) == ("dead", 5) and "HTTP 500" in dead.last_error
        retry_dead(session, dead.id, clock.now())
        session.commit()
    hooks.fail_next = 0
    assert dispatch_pending(session_factory, channels, clock).sent == 1
    keys.add(hooks.received[-1]["headers"]["X-Idempotency-Key"])
    assert len(keys) == 2


def test_a_dispatcher_dying_between_send_and_mark_sent_leads_to_a_resend_with_the_same_key(
        session_factory: sessionmaker[Session], complaint: Complaint) -> None:
    queue(session_factory, complaint)
    capture = CapturingChannel()
    clock = FixedClock(NOW)
    [row] = claim(session_factory, clock.now(), "worker-that-dies", 10)
    capture.send(row)  # sent … and the process dies before marking it
    assert dispatch_pending(session_factory, {"email": capture}, clock).sent == 0  # the lease still holds
    clock.advance(LEASE + timedelta(seconds=1))
    assert dispatch_pending(session_factory, {"email": capture}, clock).sent == 1
    first, second = capture.sent
    assert idempotency_key(first) == idempotency_key(second)  # at least once, same key: receivers de-duplicate
    assert statuses(session_factory) == [("email", "sent", 2)]


def test_a_rolled_back_transaction_leaves_no_notice(session_factory: sessionmaker[Session],
                                                    complaint: Complaint) -> None:
    with session_factory() as session:
        outbox.notify_complainant(session, complaint_id=complaint.id, template="acceptance", key="k", now=NOW,
                                  context={"agency": "th-amr"})
        session.rollback()
    assert statuses(session_factory) == []


def test_queuing_the_same_notice_twice_writes_it_once(session_factory: sessionmaker[Session],
                                                      complaint: Complaint) -> None:
    queue(session_factory, complaint)
    queue(session_factory, complaint)
    assert statuses(session_factory) == [("email", "pending", 0)]


def test_a_template_error_dead_letters_the_notice_without_failing_the_transition(
        session_factory: sessionmaker[Session], complaint: Complaint) -> None:
    with session_factory() as session:
        outbox.notify_complainant(session, complaint_id=complaint.id, template="rejection", key="k", now=NOW,
                                  context={"agency": "th-amr"})  # no reason given
        session.commit()
        row = session.scalar(select(OutboxMessage))
        assert row.status == "dead" and "reason" in row.last_error


def test_in_app_notices_and_preferences_and_digest(session_factory: sessionmaker[Session],
                                                   complaint: Complaint) -> None:
    with session_factory() as session:
        liaison = get_user(session, "th-amr.liaison")
        liaison.email = "liaison@example.cn"
        outbox.set_preferences(session, liaison.id, email=True, digest_reminders=True)
        context = {"task_title": "受理审查", "due_date": "2026-11-27", "agency": "th-amr", "assignee": ""}
        for n in range(2):
            outbox.notify_users(session, user_ids=[liaison.id], template="reminder", key=f"step:{n}", now=NOW,
                                context={**context, "agency_name": "太和县市场监督管理局"})
        session.commit()
        liaison_id = liaison.id
    capture = CapturingChannel()
    report = dispatch_pending(session_factory, {"in_app": InAppChannel(session_factory), "email": capture},
                              FixedClock(NOW))
    assert report.sent == 2 and capture.sent == []  # emails held for the digest
    assert release_digests(session_factory, NOW) == 1
    dispatch_pending(session_factory, {"email": capture}, FixedClock(NOW))
    [digest] = capture.sent
    assert digest.subject == "今日待办提醒（2 项）" and digest.recipient == "liaison@example.cn"
    with session_factory() as session:
        notices = list_notices(session, liaison_id)
        assert [n.subject for n in notices] == ["【即将到期】受理审查（2026-11-27 到期）"] * 2
        assert mark_read(session, liaison_id, notices[0].id, NOW) is True
        assert mark_read(session, liaison_id + 1, notices[1].id, NOW) is False  # not someone else's
        session.commit()
        assert len(list_notices(session, liaison_id, unread_only=True)) == 1


def test_two_dispatchers_on_postgresql_send_each_notice_exactly_once(pg_session_factory: sessionmaker[Session],
                                                                     request: object) -> None:
    from agencies.complaints import register_complaint
    from agencies.demo import seed_demo
    from agencies.intake import parse_complaint
    from agencies.repository import get_agency_by_code
    from tests.agencies.factories import complaint_payload

    with pg_session_factory() as session:
        seed_demo(session, "demo-password", now=NOW)
        agency = get_agency_by_code(session, "th-amr")
        row, _ = register_complaint(session, parse_complaint(complaint_payload(), NOW), received_by=agency,
                                    competent=agency, now=NOW)
        for n in range(200):
            outbox.notify_complainant(session, complaint_id=row.id, template="acceptance", key=f"k{n}", now=NOW,
                                      context={"agency": "th-amr"})
        session.commit()
    capture = CapturingChannel()
    lock = threading.Lock()

    class Locked(CapturingChannel):
        def send(self, message: OutboxMessage) -> None:
            with lock:
                capture.send(message)

    threads = [threading.Thread(target=dispatch_pending, args=(pg_session_factory, {"email": Locked()},
                                                               FixedClock(NOW)),
                                kwargs={"limit": 20, "worker": f"w{i}"}) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(capture.sent) == 200 and len({m.id for m in capture.sent}) == 200
    with pg_session_factory() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)
                              .where(OutboxMessage.status == "sent")) == 200
