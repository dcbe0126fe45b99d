"""Suspend and resume a task's clock (检定、检验、检测、鉴定; 中止, 听证, 公告 are not counted).

The task stays open and workable; only its deadline stands still. On resume the deadline is
recomputed from its inputs plus every closed suspension, so a later calendar change (a year's
holidays added) recomputes it the same way.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine.actors import Actor
from engine.db.affected import rows_affected
from engine.db.tables import OpenTask, ProcessInstance, TaskSuspension
from engine.deadlines.periods import Deadline, shift_for_suspension
from engine.deadlines.service import DeadlineService
from engine.errors import Conflict, FieldError, Forbidden, InvalidInput
from engine.runner import Runner


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason or len(reason) > 500:
        raise InvalidInput([FieldError("reason", "须填写原因 (1–500 字) / a reason of 1–500 characters is required")])
    return reason


def _workable(session: Session, runner: Runner, task_id: str, actor: Actor, reason: str) -> tuple[OpenTask, str]:
    """The task, if this actor may stop or restart its clock, and the checked reason.

    Whoever may work an unclaimed task may suspend or resume it (claiming is not required); a
    claimed task's clock is its assignee's, or theirs who may act for others (a supervisor), to stop
    and restart — a colleague must not pause someone else's deadline."""
    task = runner.tasks.visible_task(session, task_id, actor)
    runner.tasks.require_lane(task, actor)
    if not runner.tasks.holds_or_may_act_for(task, actor):
        raise Forbidden(f"任务已由 {task.assignee} 认领，只有认领人或主管可以中止或恢复计时 / the task is claimed by "
                        f"{task.assignee}: only the assignee or a supervisor may suspend or resume it")
    return task, _reason(reason)


def suspend(session: Session, runner: Runner, task_id: str, actor: Actor, reason: str) -> OpenTask:
    task, reason = _workable(session, runner, task_id, actor, reason)
    if task.due_at is None:
        raise Conflict("任务没有期限，无需中止计时 / the task has no deadline to suspend")
    if task.suspended_at is not None:
        raise Conflict("任务已中止计时 / the task is already suspended")
    now = runner.clock.now()
    _stop_clock(session, task, now)
    session.add(TaskSuspension(task_id=task.id, suspended_at=now, reason=reason, suspended_by=actor.username))
    runner.escalation.stop(session, task)
    runner.audit(session, actor, "task.suspended", task.instance_id, task.complaint_id, task.id,
                 {"reason": reason, "due_at": task.due_at.isoformat()}, at=now, agency_code=task.agency_code)
    session.flush()
    return task


def _stop_clock(session: Session, task: OpenTask, now: datetime) -> None:
    """Mark the task suspended unless someone did first or it was completed meanwhile, and move the
    instance's version on: a completion that read the task before this commits then fails its versioned
    save (409) instead of going through on a clock that was just stopped."""
    stopped = session.execute(update(OpenTask).where(OpenTask.id == task.id, OpenTask.suspended_at.is_(None))
                              .values(suspended_at=now))
    if rows_affected(stopped) != 1:
        raise Conflict("任务已中止计时或已办结 / the task is already suspended or completed")
    session.execute(update(ProcessInstance).where(ProcessInstance.id == task.instance_id)
                    .values(version=ProcessInstance.version + 1))


def resume(session: Session, runner: Runner, task_id: str, actor: Actor, reason: str) -> OpenTask:
    task, reason = _workable(session, runner, task_id, actor, reason)
    if task.suspended_at is None:
        raise Conflict("任务未中止计时 / the task is not suspended")
    now = runner.clock.now()
    open_span = session.scalar(select(TaskSuspension).where(
        TaskSuspension.task_id == task.id, TaskSuspension.resumed_at.is_(None)))
    if open_span is not None:
        open_span.resumed_at = now
    session.flush()
    before = task.due_at
    deadline = recompute_deadline(session, runner.deadlines, task)
    task.due_at, task.provisional, task.suspended_at = deadline.due_at, deadline.provisional, None
    runner.escalation.reschedule(session, task)
    runner.audit(session, actor, "task.resumed", task.instance_id, task.complaint_id, task.id,
                 {"reason": reason, "before": {"due_at": before.isoformat() if before else None},
                  "after": {"due_at": task.due_at.isoformat(), "provisional": task.provisional}},
                 at=now, agency_code=task.agency_code)
    return task


def recompute_deadline(session: Session, deadlines: DeadlineService, task: OpenTask) -> Deadline:
    """The task's deadline from its rule, start and extension, moved by every finished suspension."""
    if task.deadline_rule is None or task.deadline_start is None:
        raise Conflict("任务没有期限规则 / the task has no deadline rule")
    received_at = task.received_at or task.deadline_start
    deadline = deadlines.due(task.deadline_rule, task.deadline_start, received_at, task.deadline_extended)
    unit = deadlines.policy.rule_for(task.deadline_rule, received_at).period.unit
    spans = session.scalars(select(TaskSuspension).where(
        TaskSuspension.task_id == task.id, TaskSuspension.resumed_at.is_not(None))
        .order_by(TaskSuspension.suspended_at)).all()
    for span in spans:
        assert span.resumed_at is not None
        deadline = shift_for_suspension(deadline, span.suspended_at, span.resumed_at, unit, deadlines.calendar)
    return deadline
