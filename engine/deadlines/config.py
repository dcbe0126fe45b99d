"""Deadline rules and calendar years as admin-edited, audited data: statutory periods change with
the law, so they are rows an admin corrects and extends, never constants in code.

The shipped default policy applies until an admin sets versions of a rule; a year unknown to
``chinesecalendar`` counts provisionally until an admin enters it. Entering a year recomputes the
provisional deadlines of open tasks and pending BPMN timers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date, datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from engine import audit
from engine.db.tables import CalendarYear, DeadlineRuleRow, OpenTask, PendingTimer
from engine.deadlines.calendar import WorkdayCalendar, YearCalendar
from engine.deadlines.periods import Period
from engine.deadlines.rules import DeadlinePolicy, RuleVersion, default_policy
from engine.deadlines.service import DeadlineService
from engine.deadlines.suspension import recompute_deadline
from engine.errors import FieldError, InvalidInput
from engine.runner import SYSTEM, Runner


def load_policy(session: Session) -> DeadlinePolicy:
    rows = session.scalars(select(DeadlineRuleRow).order_by(DeadlineRuleRow.name, DeadlineRuleRow.valid_from)).all()
    overridden = {row.name for row in rows}
    defaults = default_policy()
    versions = [v for name in defaults.names() if name not in overridden for v in defaults.versions(name)]
    versions += [_version(row) for row in rows]
    return DeadlinePolicy(versions)


def load_calendar(session: Session) -> WorkdayCalendar:
    overrides = {
        row.year: YearCalendar(row.year, frozenset(map(date.fromisoformat, row.holidays)),
                               frozenset(map(date.fromisoformat, row.workdays)))
        for row in session.scalars(select(CalendarYear))
    }
    return WorkdayCalendar(overrides)


def reload(session: Session, service: DeadlineService) -> DeadlineService:
    """Refresh a shared service in place (the runner and sweep hold a reference to it)."""
    service.policy = load_policy(session)
    service.calendar = load_calendar(session)
    return service


def _version(row: DeadlineRuleRow) -> RuleVersion:
    return RuleVersion(name=row.name, period=Period.parse(row.period), counts_from=row.counts_from,
                       valid_from=row.valid_from, valid_until=row.valid_until,
                       extension=Period.parse(row.extension) if row.extension else None,
                       on_expiry=row.on_expiry, source=row.source)


def set_calendar_year(session: Session, year: int, holidays: Iterable[date], workdays: Iterable[date], *,
                      actor: str, now: datetime, agency_code: str | None = None) -> YearCalendar:
    """Enter (or correct) a year's holidays and make-up working days; ``agency_code`` is the acting
    admin's agency, for the audit event."""
    try:
        entry = YearCalendar(year, frozenset(holidays), frozenset(workdays))
    except (TypeError, ValueError) as exc:
        raise InvalidInput([FieldError("holidays", str(exc))]) from None
    row = session.get(CalendarYear, year)
    before = {"holidays": row.holidays, "workdays": row.workdays} if row else None
    after = {"holidays": sorted(d.isoformat() for d in entry.holidays),
             "workdays": sorted(d.isoformat() for d in entry.workdays)}
    if row is None:
        session.add(CalendarYear(year=year, updated_at=now, updated_by=actor, **after))
    else:
        row.holidays, row.workdays, row.updated_at, row.updated_by = after["holidays"], after["workdays"], now, actor
    audit.record(session, actor=actor, action="calendar.year_set", at=now, agency_code=agency_code,
                 details={"year": year, "before": before, "after": after})
    session.flush()
    return entry


def add_rule_version(session: Session, name: str, period: str, valid_from: date, *, actor: str, now: datetime,
                     extension: str | None = None, counts_from: str | None = None, source: str = "",
                     on_expiry: str | None = None, agency_code: str | None = None) -> DeadlinePolicy:
    """A new version of ``name`` for complaints received from ``valid_from`` on; the version in force
    before it now ends there. Returns the resulting policy (validated before anything is stored)."""
    policy = load_policy(session)
    try:
        new_period = Period.parse(period)
        new_extension = Period.parse(extension) if extension else None
        current = list(policy.versions(name))
    except (ValueError, KeyError) as exc:
        raise InvalidInput([FieldError("period" if "period" in str(exc).lower() else "name", str(exc))]) from None
    kept = []
    for version in current:
        if version.valid_from is not None and version.valid_from >= valid_from:
            continue  # superseded entirely
        if version.valid_until is None or version.valid_until > valid_from:
            version = replace(version, valid_until=valid_from)
        kept.append(version)
    template = current[-1]
    added = RuleVersion(name=name, period=new_period, counts_from=counts_from or template.counts_from,
                        valid_from=valid_from, extension=new_extension, source=source or template.source,
                        on_expiry=on_expiry if on_expiry is not None else template.on_expiry)
    try:
        result = DeadlinePolicy([*(v for n in policy.names() if n != name for v in policy.versions(n)), *kept, added])
    except ValueError as exc:
        raise InvalidInput([FieldError("valid_from", str(exc))]) from None
    session.execute(delete(DeadlineRuleRow).where(DeadlineRuleRow.name == name))
    for version in result.versions(name):
        session.add(DeadlineRuleRow(
            name=name, period=str(version.period), counts_from=version.counts_from, valid_from=version.valid_from,
            valid_until=version.valid_until, extension=str(version.extension) if version.extension else None,
            on_expiry=version.on_expiry, source=version.source, created_at=now, created_by=actor))
    audit.record(session, actor=actor, action="deadline_rule.version_added", at=now, agency_code=agency_code,
                 details={"rule": name, "before": [_describe(v) for v in current],
                          "after": [_describe(v) for v in result.versions(name)]})
    session.flush()
    return result


def _describe(version: RuleVersion) -> dict[str, object]:
    return {"period": str(version.period), "valid": version.describe_validity(),
            "extension": str(version.extension) if version.extension else None}


def recompute_provisional(session: Session, runner: Runner) -> dict[str, int]:
    """After a year is entered: recompute provisional task deadlines and re-evaluate BPMN timers
    that fall in years the calendar now knows. Call with ``runner.deadlines`` already reloaded."""
    calendar = runner.deadlines.calendar
    tasks = session.scalars(select(OpenTask).where(OpenTask.provisional.is_(True),
                                                   OpenTask.deadline_rule.is_not(None))).all()
    changed = 0
    for task in tasks:
        deadline = recompute_deadline(session, runner.deadlines, task)
        if (deadline.due_at, deadline.provisional) != (task.due_at, task.provisional):
            before = task.due_at
            task.due_at, task.provisional = deadline.due_at, deadline.provisional
            if task.suspended_at is None:
                runner.escalation.reschedule(session, task)
            runner.audit(session, SYSTEM, "task.deadline_recomputed", task.instance_id, task.complaint_id, task.id,
                         {"before": before.isoformat() if before else None, "after": task.due_at.isoformat(),
                          "provisional": task.provisional}, agency_code=task.agency_code)
            changed += 1
    timer_instances = {
        t.instance_id for t in session.scalars(select(PendingTimer))
        if calendar.is_known(t.fire_at.year) and t.fire_at.year in calendar.overrides
    }
    for instance_id in sorted(timer_instances):
        runner.recompute_timers(session, instance_id)
    return {"tasks": changed, "timer_instances": len(timer_instances)}
