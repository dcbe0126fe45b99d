"""Stop the scheduler, move the clock a week on, start it again: everything missed happens, once."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import select

from complaintflow.jobs import run_sweep
from engine.db.tables import AuditEvent
from engine.scheduler import start_scheduler
from notifications.tables import OutboxMessage
from tests.workflows.scenario import Scenario


def run_scheduler_once(s: Scenario) -> None:
    """Start the real scheduler, wait for its first sweep (no sleeping on time logic), stop it."""
    done = threading.Event()

    def sweep() -> None:
        run_sweep(s.product)
        done.set()

    scheduler = start_scheduler({"sweep": (sweep, 3600)})
    try:
        assert done.wait(30), "the scheduler did not run its sweep"
    finally:
        scheduler.shutdown(wait=True)


def test_catch_up_after_a_week_of_downtime_handles_every_rung_once(s: Scenario) -> None:
    complaint = s.submit()  # review due Fri 2026-11-27
    run_scheduler_once(s)  # nothing due yet
    s.clock.set(s.clock.now() + timedelta(days=16))  # the servers were down; it is now Fri 2026-12-04
    run_scheduler_once(s)
    run_scheduler_once(s)  # a second process / a second tick: nothing twice
    with s.product.uow() as uow:
        rungs = uow.session.scalars(select(AuditEvent.action).where(
            AuditEvent.complaint_id == complaint.id, AuditEvent.action.like("deadline.%"))
            .order_by(AuditEvent.id)).all()
        notices = uow.session.execute(select(OutboxMessage.template, OutboxMessage.recipient).where(
            OutboxMessage.channel == "in_app").order_by(OutboxMessage.id)).all()
    assert rungs == ["deadline.reminder", "deadline.overdue", "deadline.escalation"]
    by_template: dict[str, int] = {}
    for template, _recipient in notices:
        by_template[template] = by_template.get(template, 0) + 1
    # the reminder came after the deadline had passed: recorded, not sent; overdue → the th-amr users who
    # can do liaison work and the supervisor (deduplicated); escalation → the supervisor of the parent fy-amr
    assert by_template == {"overdue": 2, "escalation": 1}
