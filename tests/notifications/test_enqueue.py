"""Queueing: one row per channel and recipient, in the caller's transaction, never twice for one key."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from agencies.notices import notify_agency_role, notify_complainant, notify_users
from agencies.tables import Agency, Complaint
from engine.uow import UnitOfWork
from notifications.config import OutboxConfig
from notifications.errors import TemplateError, UnknownTemplate
from notifications.in_app import list_notices
from notifications.outbox import Complainant, StaffRecipient, delivery_key
from notifications.outbox import notify_complainant as queue_for_complainant
from notifications.outbox import notify_users as queue_for_staff
from notifications.preferences import set_preferences
from notifications.tables import InAppNotice, OutboxMessage
from tests.notifications.conftest import CONFIG, NOW, SMS, World, make_world

REJECTION = {"agency": "th-amr", "reason": "不属于市场监督管理部门职责范围",
             "complainant": {"id_number": "341222199803152110"}, "amount": 2999.0}
TASK = {"agency_name": "太和县市场监督管理局", "task_title": "受理审查", "due_date": "2026-05-08", "assignee": "",
        "complaint_id": None, "task_id": "t-1"}


def rows(session_factory: sessionmaker[Session]) -> list[OutboxMessage]:
    with session_factory() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def queue_rejection(session_factory: sessionmaker[Session], world: World,
                    key: str = "instance:1:v2:rejection:1", config: OutboxConfig = CONFIG) -> int:
    with session_factory() as session:
        written = notify_complainant(session, config, complaint_id=world.complaint_id, template="rejection",
                                     context=REJECTION, key=key, now=NOW)
        session.commit()
        return written


def test_a_complainant_notice_is_rendered_and_queued_for_e_mail(session_factory: sessionmaker[Session],
                                                                 world: World) -> None:
    assert queue_rejection(session_factory, world) == 1
    [row] = rows(session_factory)
    assert (row.channel, row.recipient, row.status, row.attempts) == ("email", "zs@example.cn", "pending", 0)
    assert (row.template, row.complaint_id, row.next_attempt_at, row.created_at) == ("rejection", world.complaint_id,
                                                                                     NOW, NOW)
    assert row.subject == f"投诉不予受理告知（{world.tracking_no}）"
    assert "张三：" in row.body_text and "经太和县市场监督管理局审查" in row.body_text  # agency code → name
    assert "理由：不属于市场监督管理部门职责范围" in row.body_html
    assert row.idempotency_key == delivery_key("instance:1:v2:rejection:1", "email", "zs@example.cn")
    # only what the template read is kept: no identity number from the task data
    assert row.context == {"complainant_name": "张三", "tracking_no": world.tracking_no,
                           "agency_name": "太和县市场监督管理局", "reason": "不属于市场监督管理部门职责范围",
                           "notice_date": "2026-05-06"}
    assert row.body_text.endswith("太和县市场监督管理局\n2026年5月6日")  # 落款: the agency, dated today


def test_with_an_sms_gateway_the_phone_gets_a_row_too(session_factory: sessionmaker[Session], world: World) -> None:
    assert queue_rejection(session_factory, world, config=SMS) == 2
    email, sms = rows(session_factory)
    assert (email.channel, sms.channel, sms.recipient) == ("email", "sms", "13812345678")
    assert email.body_text == sms.body_text and email.idempotency_key != sms.idempotency_key


def test_a_complainant_without_e_mail_and_no_gateway_gets_no_row(session_factory: sessionmaker[Session],
                                                                 world: World) -> None:
    with session_factory() as session:
        session.get_one(Complaint, world.complaint_id).complainant_email = None
        session.commit()
    assert queue_rejection(session_factory, world) == 0
    assert rows(session_factory) == []


def test_the_same_key_twice_writes_one_row(session_factory: sessionmaker[Session], world: World) -> None:
    assert queue_rejection(session_factory, world, config=SMS) == 2
    assert queue_rejection(session_factory, world, config=SMS) == 0
    assert len(rows(session_factory)) == 2
    assert queue_rejection(session_factory, world, key="instance:1:v3:rejection:1", config=SMS) == 2


def test_a_rolled_back_transition_leaves_no_notice(session_factory: sessionmaker[Session], world: World) -> None:
    class Refused(Exception):
        pass

    with pytest.raises(Refused), UnitOfWork(session_factory) as uow:
        uow.session.get_one(Complaint, world.complaint_id).status = "rejected"
        notify_complainant(uow.session, CONFIG, complaint_id=world.complaint_id, template="rejection",
                           context=REJECTION, key="k", now=NOW)
        notify_users(uow.session, CONFIG, user_ids=[world.liaison_id], template="reminder", context=TASK, key="k",
                     now=NOW)
        raise Refused  # e.g. the optimistic version check fails: nothing of the transition may remain
    with UnitOfWork(session_factory) as uow:  # leaving without commit() rolls back too
        notify_complainant(uow.session, CONFIG, complaint_id=world.complaint_id, template="rejection",
                           context=REJECTION, key="k", now=NOW)
    assert rows(session_factory) == []
    with session_factory() as session:
        assert session.get_one(Complaint, world.complaint_id).status == "registered"
        assert list_notices(session, world.liaison_id) == []
    with UnitOfWork(session_factory) as uow:  # and the committed transition has both
        uow.session.get_one(Complaint, world.complaint_id).status = "rejected"
        notify_complainant(uow.session, CONFIG, complaint_id=world.complaint_id, template="rejection",
                           context=REJECTION, key="k", now=NOW)
        uow.commit()
    assert [r.template for r in rows(session_factory)] == ["rejection"]


def test_a_missing_variable_fails_the_transition_loudly(session_factory: sessionmaker[Session], world: World) -> None:
    with session_factory() as session:
        with pytest.raises(TemplateError, match="'reason' is undefined"):
            notify_complainant(session, CONFIG, complaint_id=world.complaint_id, template="rejection",
                               context={"agency": "th-amr"}, key="k", now=NOW)
        with pytest.raises(UnknownTemplate, match="'rejectoin'"):
            notify_complainant(session, CONFIG, complaint_id=world.complaint_id, template="rejectoin",
                               context=REJECTION, key="k", now=NOW)
        with pytest.raises(TemplateError, match="'task_title' is undefined"):
            notify_users(session, CONFIG, user_ids=[world.liaison_id], template="reminder", context={}, key="k",
                         now=NOW)
        with pytest.raises(LookupError, match="complaint 999999 not found"):
            notify_complainant(session, CONFIG, complaint_id=999999, template="rejection", context=REJECTION, key="k",
                               now=NOW)
        with pytest.raises(ValueError, match="1–200 characters"):
            notify_complainant(session, CONFIG, complaint_id=world.complaint_id, template="rejection",
                               context=REJECTION, key="k" * 201, now=NOW)
    assert rows(session_factory) == []


def test_an_unknown_agency_code_is_named_by_its_code(session_factory: sessionmaker[Session], world: World) -> None:
    with session_factory() as session:
        notify_complainant(session, CONFIG, complaint_id=world.complaint_id, template="transfer", now=NOW, key="k",
                           context={"from_agency": "th-amr", "to_agency": "xx-amr", "reason": "经营地不在本县"})
        session.commit()
    [row] = rows(session_factory)
    assert "经太和县市场监督管理局审查" in row.body_text and "已转送有管辖权的xx-amr处理" in row.body_text


@pytest.mark.parametrize(("code", "confirmable"), [("th-pmc", True), ("th-amr", False), ("xx-pmc", False)])
def test_an_agreement_is_worded_by_the_kind_of_the_mediating_agency(
        session_factory: sessionmaker[Session], world: World, code: str, confirmable: bool) -> None:
    """The workflow names the mediator by code; only a people's mediation committee's agreement can be
    judicially confirmed, and the notice says so only then."""
    with session_factory() as session:
        if code == "th-pmc":
            session.add(Agency(code="th-pmc", name="太和县消费纠纷人民调解委员会", short_name="太和人调委",
                               kind="mediation_committee", region_code="341222"))
            session.flush()
        notify_complainant(session, CONFIG, complaint_id=world.complaint_id, template="agreement", now=NOW,
                           key="k", context={"agency": code, "agreement_text": "退还货款 2999 元"})
        session.commit()
    [row] = rows(session_factory)
    assert ("申请司法确认" in row.body_text) is confirmable
    assert row.body_text.endswith("\n2026年5月6日")


def test_the_outbox_queues_for_exactly_the_recipients_and_words_it_is_given(
        session_factory: sessionmaker[Session], world: World) -> None:
    """``notifications`` looks up no complaint, user or agency: the addresses, the users and the names
    in the text are the caller's (here deliberately unlike what the database holds)."""
    words = {"complainant_name": "李四", "tracking_no": "TS2026050600000026", "agency_name": "某某局",
             "reason": "材料不全", "notice_date": "2026-05-06"}
    staff = [StaffRecipient(world.colleague_id, "given@example.cn"), StaffRecipient(world.colleague_id, "again@x.cn")]
    with session_factory() as session:
        written = queue_for_complainant(session, SMS, complainant=Complainant(world.complaint_id, None, "13900000000"),
                                        template="rejection", context=words, key="k", now=NOW)
        written += queue_for_staff(session, CONFIG, recipients=staff, template="overdue",
                                   context={**TASK, "notice_date": "2026-05-06"}, key="k", now=NOW)
        session.commit()
    assert written == 3  # the user named twice hears once, at the first address given
    assert [(r.channel, r.recipient, r.complaint_id) for r in rows(session_factory)] == [
        ("sms", "13900000000", world.complaint_id), ("in_app", str(world.colleague_id), None),
        ("email", "given@example.cn", None)]
    sms = rows(session_factory)[0]
    assert sms.subject == "投诉不予受理告知（TS2026050600000026）" and "李四：" in sms.body_text
    assert "经某某局审查" in sms.body_text and sms.body_text.endswith("某某局\n2026年5月6日")


def test_staff_get_in_app_notices_at_once_and_e_mail_by_preference(session_factory: sessionmaker[Session],
                                                                   world: World) -> None:
    users = [world.liaison_id, world.colleague_id, world.supervisor_id, world.retired_id, 424242, world.liaison_id]
    with session_factory() as session:
        written = notify_users(session, CONFIG, user_ids=users, template="overdue", context=TASK, key="step:1", now=NOW)
        session.commit()
    assert written == 5  # 3 active users in-app, 2 of them have an address; inactive and unknown skipped
    assert [(r.channel, r.recipient, r.status) for r in rows(session_factory)] == [
        ("in_app", str(world.liaison_id), "sent"), ("email", "liaison@th-amr.example.cn", "pending"),
        ("in_app", str(world.colleague_id), "sent"),
        ("in_app", str(world.supervisor_id), "sent"), ("email", "boss@th-amr.example.cn", "pending")]
    with session_factory() as session:
        [notice] = list_notices(session, world.colleague_id)
        assert (notice.subject, notice.template, notice.read_at) == (
            "【已超期】受理审查（2026年5月8日到期）", "overdue", None)
        assert "尚无人认领" in notice.body
        assert list_notices(session, world.retired_id) == []


def test_a_user_who_turned_e_mail_off_gets_in_app_only(session_factory: sessionmaker[Session], world: World) -> None:
    with session_factory() as session:
        set_preferences(session, world.liaison_id, channels=[], digest_reminders=False, now=NOW)
        notify_users(session, CONFIG, user_ids=[world.liaison_id], template="overdue", context=TASK, key="k", now=NOW)
        session.commit()
    assert [r.channel for r in rows(session_factory)] == ["in_app"]


def test_the_same_key_twice_delivers_one_in_app_notice(session_factory: sessionmaker[Session], world: World) -> None:
    for _ in range(2):
        with session_factory() as session:
            notify_users(session, CONFIG, user_ids=[world.colleague_id], template="overdue", context=TASK, key="k",
                         now=NOW)
            session.commit()
    with session_factory() as session:
        assert len(list_notices(session, world.colleague_id)) == 1


def test_an_agency_role_means_exactly_that_role(session_factory: sessionmaker[Session], world: World) -> None:
    with session_factory() as session:
        notify_agency_role(session, CONFIG, agency_id=world.regulator_id, role="liaison", template="reminder",
                           context=TASK, key="liaisons", now=NOW)
        notify_agency_role(session, CONFIG, agency_id=world.regulator_id, role="supervisor", template="overdue",
                           context=TASK, key="supervisors", now=NOW)
        notify_agency_role(session, CONFIG, agency_id=world.parent_id, role="supervisor", template="escalation",
                           context=TASK, key="parent", now=NOW)
        session.commit()
        recipients = session.execute(select(InAppNotice.template, InAppNotice.user_id).order_by(InAppNotice.id)).all()
    # active liaisons only (by username; not the supervisor, not the retired liaison), then the supervisors
    assert [tuple(r) for r in recipients] == [("reminder", world.colleague_id), ("reminder", world.liaison_id),
                                              ("overdue", world.supervisor_id),
                                              ("escalation", world.parent_supervisor_id)]


def test_two_transactions_queueing_the_same_key_at_once_write_one_row(
        pg_session_factory: sessionmaker[Session]) -> None:
    """``ON CONFLICT DO NOTHING``: the second insert waits for the first transaction, then skips."""
    world = make_world(pg_session_factory)
    first = pg_session_factory()
    assert notify_complainant(first, CONFIG, complaint_id=world.complaint_id, template="rejection", context=REJECTION,
                              key="race", now=NOW) == 1
    results: list[int] = []

    def second() -> None:
        with pg_session_factory() as session:
            results.append(notify_complainant(session, CONFIG, complaint_id=world.complaint_id, template="rejection",
                                              context=REJECTION, key="race", now=NOW))
            session.commit()

    thread = threading.Thread(target=second)
    thread.start()
    thread.join(0.5)
    assert thread.is_alive()  # blocked on the first transaction's uncommitted row
    first.commit()
    first.close()
    thread.join(10)
    assert results == [0]
    assert len(rows(pg_session_factory)) == 1
