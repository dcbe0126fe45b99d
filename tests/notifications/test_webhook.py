"""Signed webhooks to a real local HTTP server: signature, retries with backoff, dead letters, admin retry."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from agencies.notices import notify_complainant
from complaintflow.settings import Settings
from complaintflow.wiring import build_product, outbox_channels, outbox_config
from engine.clock import FixedClock
from notifications.channels import (
    CapturingChannel,
    SmtpChannel,
    WebhookChannel,
    build_channels,
    verify_signature,
)
from notifications.config import OutboxConfig
from notifications.dead_letters import count_dead_letters, list_dead_letters, retry_dead
from notifications.dispatcher import RetryPolicy, dispatch_pending
from notifications.errors import DeliveryError, NotDeadLetter, PermanentDeliveryError
from notifications.message import Channel, Envelope
from notifications.tables import OutboxMessage
from tests.notifications.conftest import CONFIG, NOW, SMS, WEBHOOK_SECRET, Hooks, World, free_port

POLICY = RetryPolicy()


def queue_sms(session_factory: sessionmaker[Session], world: World, key: str = "instance:1:v2:rejection:1") -> None:
    with session_factory() as session:
        notify_complainant(session, SMS, complaint_id=world.complaint_id, template="rejection", key=key, now=NOW,
                           context={"agency": "th-amr", "reason": "不属于市场监督管理部门职责范围"})
        session.commit()


def sms_row(session_factory: sessionmaker[Session]) -> OutboxMessage:
    with session_factory() as session:
        return session.scalars(select(OutboxMessage).where(OutboxMessage.channel == "sms")).one()


def channels(hooks: Hooks) -> dict[str, Channel]:
    return {"sms": WebhookChannel(hooks.url, WEBHOOK_SECRET), "email": CapturingChannel()}


def test_the_gateway_receives_a_signed_notice_for_the_phone(session_factory: sessionmaker[Session], world: World,
                                                           webhook_server: Hooks) -> None:
    queue_sms(session_factory, world)
    report = dispatch_pending(session_factory, channels(webhook_server), FixedClock(NOW), CONFIG)
    assert (report.sent, report.errors) == (2, [])
    [request] = webhook_server.requests
    assert verify_signature(request.raw, request.headers["X-Complaintflow-Signature"], WEBHOOK_SECRET)
    assert not verify_signature(request.raw + b" ", request.headers["X-Complaintflow-Signature"], WEBHOOK_SECRET)
    assert not verify_signature(request.raw, request.headers["X-Complaintflow-Signature"], "another-secret")
    row = sms_row(session_factory)
    assert request.headers["X-Idempotency-Key"] == row.idempotency_key == request.body["id"]
    assert request.headers["Content-Type"] == "application/json; charset=utf-8"
    body = request.body
    assert (body["to"], body["event"], body["channel"]) == ("13812345678", "rejection", "sms")
    assert body["subject"] == f"投诉不予受理告知（{world.tracking_no}）"
    assert body["text"].startswith("张三：\n") and "理由：不属于市场监督管理部门职责范围" in body["text"]
    assert "不予受理".encode() in request.raw  # UTF-8 on the wire, not \\u escapes
    assert (row.status, row.sent_at) == ("sent", NOW)


def test_a_failing_gateway_is_retried_with_exponential_backoff_and_the_same_key(
        session_factory: sessionmaker[Session], world: World, webhook_server: Hooks) -> None:
    queue_sms(session_factory, world)
    webhook_server.answers = [500, 503, 502]
    clock = FixedClock(NOW)
    sms = channels(webhook_server)
    key = sms_row(session_factory).idempotency_key
    for attempt in (1, 2, 3):
        report = dispatch_pending(session_factory, sms, clock, CONFIG)
        assert (report.sent, report.retried) == ((1, 1) if attempt == 1 else (0, 1))  # the e-mail went at once
        row = sms_row(session_factory)
        delay = POLICY.delay(attempt, key)
        assert (row.status, row.attempts, row.next_attempt_at) == ("retry", attempt, clock.now() + delay)
        assert row.last_error.startswith("webhook: HTTP 50") and "13812345678" not in row.last_error
        assert row.acquired_until is None
        # not due a moment before the backoff ends: nothing is sent
        clock.advance(delay - timedelta(seconds=1))
        assert dispatch_pending(session_factory, sms, clock, CONFIG).claimed == 0
        clock.advance(timedelta(seconds=1))
    assert dispatch_pending(session_factory, sms, clock, CONFIG).sent == 1
    assert [r.headers["X-Idempotency-Key"] for r in webhook_server.requests] == [key] * 4
    assert all(verify_signature(r.raw, r.headers["X-Complaintflow-Signature"], WEBHOOK_SECRET)
               for r in webhook_server.requests)
    row = sms_row(session_factory)
    assert (row.status, row.attempts, row.last_error) == ("sent", 4, None)


def test_after_the_limit_a_notice_is_dead_until_an_admin_retries_it(
        session_factory: sessionmaker[Session], world: World, webhook_server: Hooks) -> None:
    queue_sms(session_factory, world)
    webhook_server.answers = [500] * 5
    clock = FixedClock(NOW)
    sms: dict[str, Channel] = {"sms": WebhookChannel(webhook_server.url, WEBHOOK_SECRET)}
    reports = []
    for _ in range(5):
        reports.append(dispatch_pending(session_factory, sms, clock, CONFIG, max_attempts=5))
        clock.advance(timedelta(hours=7))
    assert [(r.retried, r.dead) for r in reports] == [(1, 0)] * 4 + [(0, 1)]
    assert dispatch_pending(session_factory, sms, clock, CONFIG, max_attempts=5).claimed == 0
    with session_factory() as session:
        assert count_dead_letters(session) == 1
        [dead] = list_dead_letters(session)
        assert (dead.status, dead.attempts, dead.last_error, dead.channel) == ("dead", 5, "webhook: HTTP 500", "sms")
        assert dead.dead_at == NOW + timedelta(hours=28)
        retried = retry_dead(session, dead.id, clock.now())
        assert (retried.status, retried.attempts, retried.next_attempt_at) == ("retry", 0, clock.now())
        with pytest.raises(NotDeadLetter):
            retry_dead(session, dead.id, clock.now())  # twice: the second finds nothing dead
        session.commit()
        with pytest.raises(NotDeadLetter):
            retry_dead(session, 424242, clock.now())
    assert dispatch_pending(session_factory, sms, clock, CONFIG).sent == 1
    keys = {r.headers["X-Idempotency-Key"] for r in webhook_server.requests}
    assert len(webhook_server.requests) == 6 and keys == {sms_row(session_factory).idempotency_key}
    with session_factory() as session:
        assert count_dead_letters(session) == 0


@pytest.mark.parametrize(("status", "permanent"), [(400, True), (404, True), (422, True), (401, True),
                                                   (408, False), (429, False), (500, False), (302, False)])
def test_what_counts_as_permanent(status: int, permanent: bool) -> None:
    channel = WebhookChannel("https://sms.example.cn/hook", WEBHOOK_SECRET,
                             transport=httpx.MockTransport(lambda request: httpx.Response(status)))
    envelope = Envelope(1, "k" * 32, "sms", "13812345678", "acceptance", "主题", "正文", "", None, NOW, 1)
    with pytest.raises(DeliveryError, match=f"HTTP {status}") as caught:
        channel.send(envelope)
    assert isinstance(caught.value, PermanentDeliveryError) is permanent


def test_a_refusing_gateway_dead_letters_at_once(session_factory: sessionmaker[Session], world: World,
                                                 webhook_server: Hooks) -> None:
    queue_sms(session_factory, world)
    webhook_server.answers = [400]
    report = dispatch_pending(session_factory, channels(webhook_server), FixedClock(NOW), CONFIG)
    assert (report.sent, report.dead) == (1, 1)
    assert (sms_row(session_factory).status, sms_row(session_factory).attempts) == ("dead", 1)


def test_an_unreachable_gateway_is_retried(session_factory: sessionmaker[Session], world: World) -> None:
    queue_sms(session_factory, world)
    sms: dict[str, Channel] = {"sms": WebhookChannel(f"http://127.0.0.1:{free_port()}/sms", WEBHOOK_SECRET,
                                                              timeout=2)}
    assert dispatch_pending(session_factory, sms, FixedClock(NOW), CONFIG).retried == 1
    assert sms_row(session_factory).last_error.startswith("webhook: ConnectError")


def test_channels_are_built_from_settings_and_refuse_half_a_webhook() -> None:
    built = build_channels("smtp+starttls://u:p@mail.example.cn", "https://sms.example.cn/hook", "s3cret")
    assert set(built) == {"email", "sms"}
    settings = Settings(smtp_url="smtps://mail.example.cn", complaintflow_mail_from="消费投诉平台 <noreply@amr.cn>",
                        complaintflow_webhook_url=None, complaintflow_webhook_secret=None)
    [(name, email)] = outbox_channels(settings).items()
    assert name == "email" and isinstance(email, SmtpChannel) and email.sender == "消费投诉平台 <noreply@amr.cn>"
    assert build_channels(None, None, None) == {}
    with pytest.raises(ValueError, match="must be set together"):
        build_channels(None, "https://sms.example.cn/hook", None)
    with pytest.raises(ValueError, match="http"):
        WebhookChannel("ftp://sms.example.cn", "s")


def test_the_outbox_settings_come_from_the_settings_and_stay_with_their_product(
        database_url: str, session_factory: sessionmaker[Session], world: World) -> None:
    """Two products in one process (a test beside another, a command beside a server) each queue by
    their own settings: building the second one changes nothing for the first (no process-wide state)."""
    gateway = {"complaintflow_webhook_url": "https://sms.example.cn/hook", "complaintflow_webhook_secret": "s3cret"}
    assert outbox_config(Settings(**gateway, complaintflow_templates_dir="/srv/overrides")) == OutboxConfig(
        sms_via_webhook=True, templates_dir="/srv/overrides")
    assert outbox_config(Settings(complaintflow_webhook_url="https://sms.example.cn/hook")) == CONFIG  # no secret
    secret = "test-secret-key-" + "x" * 48
    with_sms = build_product(Settings(database_url=database_url, complaintflow_secret_key=secret, **gateway))
    without_sms = build_product(Settings(database_url=database_url, complaintflow_secret_key=secret))
    try:
        for product, key in ((with_sms, "first"), (without_sms, "second"), (with_sms, "third")):
            with product.uow() as uow:
                notify_complainant(uow.session, product.outbox, complaint_id=world.complaint_id, template="rejection",
                                   key=key, now=NOW, context={"agency": "th-amr", "reason": "不属于本部门职责范围"})
                uow.commit()
    finally:
        with_sms.close()
        without_sms.close()
    with session_factory() as session:
        queued = session.execute(select(OutboxMessage.key, OutboxMessage.channel).order_by(OutboxMessage.id)).all()
    assert [tuple(row) for row in queued] == [("first", "email"), ("first", "sms"), ("second", "email"),
                                              ("third", "email"), ("third", "sms")]
