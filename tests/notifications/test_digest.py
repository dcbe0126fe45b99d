"""The daily digest option: reminder e-mails collected and sent once a day; in-app stays immediate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from agencies.notices import notify_users
from engine.clock import SHANGHAI, FixedClock
from notifications.channels import CapturingChannel, SmtpChannel
from notifications.config import OutboxConfig
from notifications.digest import next_digest_at, release_digests
from notifications.dispatcher import dispatch_pending
from notifications.in_app import list_notices
from notifications.preferences import set_preferences
from notifications.tables import OutboxMessage
from tests.notifications.conftest import CONFIG, NOW, Mailbox, World

TOMORROW_8 = datetime(2026, 5, 7, 8, 0, tzinfo=SHANGHAI)


def task(title: str, due: str) -> dict[str, str]:
    return {"agency_name": "太和县市场监督管理局", "task_title": title, "due_date": due, "assignee": ""}


def remind(session_factory: sessionmaker[Session], user_id: int, key: str, template: str = "reminder",
           title: str = "受理审查", due: str = "2026-05-08", now: datetime = NOW,
           config: OutboxConfig = CONFIG) -> None:
    with session_factory() as session:
        notify_users(session, config, user_ids=[user_id], template=template, context=task(title, due), key=key,
                     now=now)
        session.commit()


def emails(session_factory: sessionmaker[Session]) -> list[tuple[str, str, int | None]]:
    with session_factory() as session:
        return [(r.template, r.status, r.digest_id) for r in session.scalars(
            select(OutboxMessage).where(OutboxMessage.channel == "email").order_by(OutboxMessage.id))]


def test_reminders_are_bundled_into_one_e_mail_a_day(session_factory: sessionmaker[Session], world: World,
                                                     smtp_server: Mailbox) -> None:
    with session_factory() as session:
        set_preferences(session, world.liaison_id, channels=["email"], digest_reminders=True, now=NOW)
        session.commit()
    remind(session_factory, world.liaison_id, "step:1", title="受理审查", due="2026-05-08")
    remind(session_factory, world.liaison_id, "step:2", title="办结", due="2026-05-11")
    remind(session_factory, world.liaison_id, "step:3", template="overdue", title="回访", due="2026-05-06")
    with session_factory() as session:  # the inbox has all three at once
        assert [n.template for n in list_notices(session, world.liaison_id)] == ["overdue", "reminder", "reminder"]
    smtp = {"email": SmtpChannel(smtp_server.url, "noreply@amr.example.cn")}
    clock = FixedClock(NOW)

    assert dispatch_pending(session_factory, smtp, clock, CONFIG).sent == 1  # the overdue notice is not a reminder
    assert [m.message["Subject"] for m in smtp_server.received] == ["【已超期】回访（2026年5月6日到期）"]
    clock.set(TOMORROW_8 - timedelta(seconds=1))
    assert dispatch_pending(session_factory, smtp, clock, CONFIG).digests == 0
    clock.set(TOMORROW_8)
    report = dispatch_pending(session_factory, smtp, clock, CONFIG)
    assert (report.digests, report.sent) == (1, 1)

    digest = smtp_server.received[-1]
    assert digest.rcpt_tos == ["liaison@th-amr.example.cn"]
    assert digest.message["Subject"] == "今日到期提醒汇总（共 2 项）"
    assert ("1. 【即将到期】受理审查（2026年5月8日到期）\n2. 【即将到期】办结（2026年5月11日到期）"
            in digest.part("plain"))
    with session_factory() as session:
        digest_id = session.scalars(select(OutboxMessage.id).where(OutboxMessage.template == "digest")).one()
    assert emails(session_factory) == [("reminder", "digested", digest_id), ("reminder", "digested", digest_id),
                                       ("overdue", "sent", None), ("digest", "sent", None)]
    assert dispatch_pending(session_factory, smtp, clock, CONFIG).claimed == 0 and len(smtp_server.received) == 2


def test_without_the_option_reminders_go_at_once(session_factory: sessionmaker[Session], world: World) -> None:
    remind(session_factory, world.liaison_id, "step:1")
    capture = CapturingChannel()
    assert dispatch_pending(session_factory, {"email": capture}, FixedClock(NOW), CONFIG).sent == 1
    assert [e.template for e in capture.sent] == ["reminder"]


def test_reminders_held_after_a_release_wait_for_the_next_day(session_factory: sessionmaker[Session],
                                                              world: World) -> None:
    six_pm = OutboxConfig(digest_hour=18)
    with session_factory() as session:
        set_preferences(session, world.liaison_id, channels=["email"], digest_reminders=True, now=NOW)
        set_preferences(session, world.supervisor_id, channels=["email"], digest_reminders=True, now=NOW)
        session.commit()
    remind(session_factory, world.liaison_id, "a", config=six_pm)
    remind(session_factory, world.supervisor_id, "b", config=six_pm)
    evening = NOW.replace(hour=18)
    assert release_digests(session_factory, evening, six_pm) == 2  # one per recipient
    assert release_digests(session_factory, evening, six_pm) == 0  # nothing is bundled twice
    remind(session_factory, world.liaison_id, "c", now=evening, config=six_pm)
    assert release_digests(session_factory, evening + timedelta(hours=5), six_pm) == 0
    assert release_digests(session_factory, evening + timedelta(days=1), six_pm) == 1
    statuses = [s for _t, s, _d in emails(session_factory)]
    assert statuses.count("digested") == 3 and statuses.count("pending") == 3


@pytest.mark.parametrize(("now", "expected"), [
    (datetime(2026, 5, 6, 7, 59, tzinfo=SHANGHAI), datetime(2026, 5, 6, 8, 0, tzinfo=SHANGHAI)),
    (datetime(2026, 5, 6, 8, 0, tzinfo=SHANGHAI), datetime(2026, 5, 7, 8, 0, tzinfo=SHANGHAI)),
    (datetime(2026, 5, 6, 23, 30, tzinfo=UTC), datetime(2026, 5, 7, 8, 0, tzinfo=SHANGHAI)),  # 07:30 in Shanghai
    (datetime(2026, 12, 31, 9, 0, tzinfo=SHANGHAI), datetime(2027, 1, 1, 8, 0, tzinfo=SHANGHAI)),
])
def test_the_digest_goes_out_at_eight_in_shanghai(now: datetime, expected: datetime) -> None:
    assert next_digest_at(now, 8) == expected
