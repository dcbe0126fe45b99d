"""Who sees and who may act on an open task: agency isolation, lanes, claims and hand-overs.

Every task action goes through here first. A task is visible only to users of its agency, and
another agency's task answers exactly like a missing one (404), so the API reveals nothing about
other agencies' work. Which roles work a lane and who may act on a colleague's task is the
product's ``LanePolicy``; this module applies it the same way to claiming, releasing, handing over,
suspending and completing. Claim, release and hand-over are written here too (with their audit
events): they change the task index only, never the workflow.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from engine import audit
from engine.actors import Actor, LanePolicy
from engine.clock import Clock
from engine.db.affected import rows_affected
from engine.db.tables import AuditEvent, OpenTask
from engine.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound

CANNOT_WORK_THIS_TASK = "该用户不能办理此任务 / this user cannot work this task"


class TaskAccess:
    """Visibility and the rights on open tasks, and the claim state changes that need no workflow."""

    def __init__(self, clock: Clock, lanes: LanePolicy) -> None:
        self.clock = clock
        self.lanes = lanes

    # ---------------------------------------------------------------- checks

    def visible_task(self, session: Session, task_id: str, actor: Actor) -> OpenTask:
        """The task if it is open in the actor's agency; otherwise ``refuse_invisible``'s answer."""
        row = session.get(OpenTask, task_id)
        if row is not None and actor.agency_code is not None and row.agency_code == actor.agency_code:
            return row
        self.refuse_invisible(session, task_id, actor, missing=row is None)

    def refuse_invisible(self, session: Session, task_id: str, actor: Actor, missing: bool = True) -> NoReturn:
        """The answer for a task not open in the actor's agency: 409 if the agency completed it already
        (a second click, a stale page), else 404 — another agency's task looks exactly like a missing one."""
        if missing and actor.agency_code is not None and session.scalar(
                select(AuditEvent.id).where(AuditEvent.task_id == task_id, AuditEvent.action == "task.completed",
                                            AuditEvent.agency_code == actor.agency_code).limit(1)):
            raise Conflict("任务已办结 / the task has already been completed")
        raise NotFound("未找到任务 / task not found")

    def require_lane(self, task: Any, actor: Actor) -> None:
        """``task`` is an ``OpenTask`` or a row of ``open_tasks``: the actor must work its lane."""
        if not self.lanes.may_work(actor, task.lane):
            raise Forbidden(f"您的角色不能办理此任务（需要 {task.lane} 角色）/ this task needs the role {task.lane!r}")

    def holds_or_may_act_for(self, task: Any, actor: Actor) -> bool:
        """The task is unclaimed or the actor's, or the actor may act on a colleague's task."""
        return task.assignee in (None, actor.username) or self.lanes.acts_for_others(actor)

    def check_may_complete(self, task: Any, actor: Actor) -> None:
        """Lane and claim, then the clock: a suspended task (waiting for a test report, say) is
        resumed first, so its deadline is recomputed and the suspension closed before it ends."""
        self.require_lane(task, actor)
        if not self.holds_or_may_act_for(task, actor):
            raise Forbidden(f"任务已由 {task.assignee} 认领 / the task is claimed by {task.assignee}")
        if task.suspended_at is not None:
            raise Conflict("任务已中止计时，请先恢复计时再办理 / the task's clock is suspended; resume it before "
                           "completing the task")

    # ---------------------------------------------------------------- claim state

    def claim(self, session: Session, task_id: str, actor: Actor) -> None:
        row = self.visible_task(session, task_id, actor)
        self.require_lane(row, actor)
        previous = row.assignee  # the ORM update below synchronises ``row``: read the real "before" first
        result = session.execute(
            update(OpenTask).where(OpenTask.id == task_id, or_(OpenTask.assignee.is_(None),
                                                               OpenTask.assignee == actor.username))
            .values(assignee=actor.username))
        if rows_affected(result) != 1:
            holder = session.scalar(select(OpenTask.assignee).where(OpenTask.id == task_id))
            raise Conflict(f"任务已由 {holder} 认领 / the task is already claimed by {holder}")
        self._audit(session, actor, "task.claimed", row, previous, actor.username)

    def release(self, session: Session, task_id: str, actor: Actor) -> None:
        row = self.visible_task(session, task_id, actor)
        previous = row.assignee
        if not self.holds_or_may_act_for(row, actor):
            raise Forbidden("只有认领人或主管可以退回此任务 / only the assignee or a supervisor may release this task")
        session.execute(update(OpenTask).where(OpenTask.id == task_id).values(assignee=None))
        self._audit(session, actor, "task.released", row, previous, None)

    def assign(self, session: Session, task_id: str, assignee: str, actor: Actor,
               resolve: Callable[[str], Actor | None]) -> None:
        """Hand a task to ``assignee`` (someone who may act for others, or the current assignee handing it on).

        The caller's right is checked before ``resolve`` looks the username up, and a username that
        is unknown, inactive, of another agency or without the task's role gets one and the same
        answer: handing over reveals nothing about who exists elsewhere."""
        row = self.visible_task(session, task_id, actor)
        previous = row.assignee
        if not (self.lanes.acts_for_others(actor) or actor.username == previous):
            raise Forbidden("只有主管或当前认领人可以转交此任务 / only a supervisor or the current assignee may "
                            "hand a task over")
        target = resolve(assignee)
        if target is None or target.agency_code != row.agency_code or not self.lanes.may_work(target, row.lane):
            raise InvalidInput([FieldError("username", CANNOT_WORK_THIS_TASK)])
        session.execute(update(OpenTask).where(OpenTask.id == task_id).values(assignee=assignee))
        self._audit(session, actor, "task.assigned", row, previous, assignee)

    def _audit(self, session: Session, actor: Actor, action: str, row: OpenTask, before: str | None,
               after: str | None) -> None:
        audit.record(session, actor=actor.username, action=action, at=self.clock.now(), agency_code=actor.agency_code,
                     instance_id=row.instance_id, complaint_id=row.complaint_id, task_id=row.id,
                     details={"before": {"assignee": before}, "after": {"assignee": after}})
