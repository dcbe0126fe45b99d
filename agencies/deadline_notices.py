"""Who hears of a deadline rung of the escalation ladder: the product's side of the escalation sweep.

- reminder: the assignee, or every user of the agency holding the task's lane role if unclaimed;
- overdue: the assignee (or those liaisons) and the agency's supervisors;
- escalation: the supervisors of the supervising (parent) agency.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from agencies.notices import notify_users
from agencies.repository import agency_users, get_agency_by_code, get_user, parent_supervisors
from agencies.tables import Agency, User
from agencies.vocab import Role
from engine.clock import SHANGHAI
from engine.db.tables import DeadlineStep, OpenTask
from notifications.config import OutboxConfig


class DeadlineNotices:
    """The escalation sweep's step handler: resolves a rung's recipients and queues their notices
    with the outbox settings the wiring built."""

    def __init__(self, outbox: OutboxConfig) -> None:
        self.outbox = outbox

    def handle(self, session: Session, step: DeadlineStep, task: OpenTask, now: datetime) -> dict[str, object]:
        agency = get_agency_by_code(session, task.agency_code) if task.agency_code else None
        if agency is None:
            return {"recipients": [], "note": "task has no known agency"}
        recipients = self._recipients(session, step.step, task, agency)
        due = task.due_at.astimezone(SHANGHAI) if task.due_at else None
        context = {
            "task_title": task.title, "task_id": task.id, "complaint_id": task.complaint_id,
            "agency_name": agency.name, "due_date": f"{due.year}年{due.month}月{due.day}日" if due else "",
            "due_at": due.isoformat() if due else "", "assignee": task.assignee or "",
        }
        notify_users(session, self.outbox, user_ids=[u.id for u in recipients], template=step.step, context=context,
                     key=f"deadline-step:{step.id}", now=now)
        return {"recipients": sorted(u.username for u in recipients)}

    def _recipients(self, session: Session, step: str, task: OpenTask, agency: Agency) -> list[User]:
        if step == "escalation":
            return parent_supervisors(session, agency)
        assignee = get_user(session, task.assignee) if task.assignee else None
        workers = [assignee] if assignee is not None else agency_users(session, agency.id, task.lane or Role.LIAISON)
        if step == "overdue":
            supervisors = agency_users(session, agency.id, Role.SUPERVISOR)
            return list({u.id: u for u in [*workers, *supervisors]}.values())
        return workers
