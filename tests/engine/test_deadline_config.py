"""Calendar years and rule versions are audited data; entering a year recomputes what was provisional."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import select

from engine.bpmn.scaffold import UserTask, build
from engine.clock import SHANGHAI
from engine.db.tables import AuditEvent, PendingTimer
from engine.deadlines.config import add_rule_version, recompute_provisional, reload, set_calendar_year
from engine.errors import InvalidInput
from tests.deadlines.calendars import OVERRIDE_2027
from tests.engine.conftest import EngineEnv
from tests.engine.test_runner import TWO_STEPS, open_tasks, start


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def enter_2027(env: EngineEnv) -> dict[str, int]:
    with env.uow() as uow:
        set_calendar_year(uow.session, 2027, OVERRIDE_2027.holidays, OVERRIDE_2027.workdays, actor="admin",
                          now=env.clock.now())
        reload(uow.session, env.runner.deadlines)
        counts = recompute_provisional(uow.session, env.runner)
        uow.commit()
        return counts


def test_a_deadline_in_an_unpublished_year_is_provisional_until_the_year_is_entered(env: EngineEnv) -> None:
    env.deploy(TWO_STEPS)
    instance_id = start(env, "two_steps", {"competent_agency": "th-amr", "received_at": "2026-12-28T10:00:00+08:00"})
    [review] = open_tasks(env, instance_id)
    assert (review.due_at, review.provisional) == (at("2027-01-07T23:59:59"), True)  # Jan 1 by law only
    assert enter_2027(env) == {"tasks": 1, "timer_instances": 0}
    [review] = open_tasks(env, instance_id)
    assert (review.due_at, review.provisional) == (at("2027-01-08T23:59:59"), False)  # the notice adds Jan 4
    with env.uow() as uow:
        actions = uow.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-2:] == ["calendar.year_set", "task.deadline_recomputed"]


def test_a_pending_timer_in_the_entered_year_is_recomputed(env: EngineEnv) -> None:
    env.deploy(build("timed", [UserTask("mediate", "组织调解", boundary_timer='due("acceptance", received_at)')],
                     agency="'th-amr'"))
    start(env, "timed", {"received_at": "2026-12-28T10:00:00+08:00"})
    with env.uow() as uow:
        assert uow.session.scalar(select(PendingTimer.fire_at)) == at("2027-01-07T23:59:59")
    assert enter_2027(env)["timer_instances"] == 1
    with env.uow() as uow:
        assert uow.session.scalar(select(PendingTimer.fire_at)) == at("2027-01-08T23:59:59")


def test_a_new_rule_version_applies_by_date_of_receipt(env: EngineEnv) -> None:
    with env.uow() as uow:
        policy = add_rule_version(uow.session, "acceptance", "5wd", date(2027, 1, 1), actor="admin",
                                  now=env.clock.now(), source="假设的新规")
        reload(uow.session, env.runner.deadlines)
        uow.commit()
    assert [str(v.period) for v in policy.versions("acceptance")] == ["7wd", "5wd"]
    env.deploy(TWO_STEPS)
    before = open_tasks(env, start(env, "two_steps", {"competent_agency": "th-amr",
                                                       "received_at": "2026-11-18T10:00:00+08:00"}))[0]
    after = open_tasks(env, start(env, "two_steps", {"competent_agency": "th-amr",
                                                      "received_at": "2027-03-01T10:00:00+08:00"}))[0]
    assert before.due_at == at("2026-11-27T23:59:59")  # 7 working days
    assert after.due_at == at("2027-03-08T23:59:59")  # 5 working days
    with env.uow() as uow:
        event = uow.session.scalar(select(AuditEvent).where(AuditEvent.action == "deadline_rule.version_added"))
        assert event.details["after"][1] == {"period": "5wd", "valid": "[2027-01-01, …)", "extension": None}


@pytest.mark.parametrize(("name", "period", "field"), [("acceptance", "7 days", "period"), ("nope", "5wd", "name")])
def test_bad_rule_versions_are_refused(env: EngineEnv, name: str, period: str, field: str) -> None:
    with env.uow() as uow, pytest.raises(InvalidInput) as error:
        add_rule_version(uow.session, name, period, date(2027, 1, 1), actor="admin", now=env.clock.now())
    assert error.value.errors[0].field == field


def test_a_year_with_a_day_both_holiday_and_workday_is_refused(env: EngineEnv) -> None:
    with env.uow() as uow, pytest.raises(InvalidInput):
        set_calendar_year(uow.session, 2027, [date(2027, 1, 4)], [date(2027, 1, 4)], actor="admin",
                          now=env.clock.now())


def test_calendar_and_rule_audits_name_the_admins_agency(env: EngineEnv) -> None:
    """These two audits used to be written without ``agency_code``, so an agency's audit view missed them."""
    with env.uow() as uow:
        set_calendar_year(uow.session, 2027, OVERRIDE_2027.holidays, OVERRIDE_2027.workdays, actor="admin",
                          now=env.clock.now(), agency_code="th-amr")
        add_rule_version(uow.session, "acceptance", "5wd", date(2027, 1, 1), actor="admin", now=env.clock.now(),
                         agency_code="th-amr")
        uow.commit()
    with env.uow() as uow:
        events = uow.session.execute(select(AuditEvent.action, AuditEvent.actor, AuditEvent.agency_code)
                                     .order_by(AuditEvent.id)).all()
    assert [tuple(e) for e in events] == [("calendar.year_set", "admin", "th-amr"),
                                          ("deadline_rule.version_added", "admin", "th-amr")]
