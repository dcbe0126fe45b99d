"""Suspend and resume a task's clock (检定、检验、检测、鉴定; 中止, 听证, 公告 are not counted).

The task stays open and workable; only its deadline stands still. On resume the deadline is
recomputed from its inputs plus every closed suspension, so a later calendar change (a year's
holidays added) recomputes it the same way.

A task's time limit may also be a boundary timer in the diagram (mediation ends when it fires). Its
clock stops with the task's: suspending holds every waiting timer attached to the task (it cannot
fire, and leaves the timer index, so the sweep never loads it), resuming moves each by the suspended
span, counted as the task's deadline counts it, and puts it back in the index. Holding rather than
skipping it in the sweep is what makes the stop real: SpiffWorkflow re-evaluates every waiting timer
of an instance on each of its steps (a message, another task), not only when the sweep calls.
A timer at the task's deadline when suspended is moved to the task's new deadline, so the two stay
in step; any other timer is moved on its own by the same number of working (or calendar) days.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from SpiffWorkflow.task import Task
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine import spiff
from engine.actors import Actor
from engine.clock import SHANGHAI
from engine.db.affected import rows_affected
from engine.db.tables import OpenTask, ProcessInstance, TaskSuspension
from engine.deadlines.periods import Deadline, PeriodUnit, shift_for_suspension
from engine.deadlines.service import DeadlineService
from engine.errors import Conflict, FieldError, Forbidden, InvalidInput

if TYPE_CHECKING:
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
    held = _hold_timers(session, runner, task, actor, now)
    runner.audit(session, actor, "task.suspended", task.instance_id, task.complaint_id, task.id,
                 {"reason": reason, "due_at": task.due_at.isoformat(), **({"timers_held": held} if held else {})},
                 at=now, agency_code=task.agency_code)
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
    span = (open_span.suspended_at if open_span is not None else task.suspended_at, now)
    session.flush()
    before = task.due_at
    deadline = recompute_deadline(session, runner.deadlines, task)
    task.due_at, task.provisional, task.suspended_at = deadline.due_at, deadline.provisional, None
    runner.escalation.reschedule(session, task)
    moved = _move_timers(session, runner, task, span, actor)
    runner.audit(session, actor, "task.resumed", task.instance_id, task.complaint_id, task.id,
                 {"reason": reason, "before": {"due_at": before.isoformat() if before else None},
                  "after": {"due_at": task.due_at.isoformat(), "provisional": task.provisional},
                  **({"timers_moved": moved} if moved else {})},
                 at=now, agency_code=task.agency_code)
    return task


def _hold_timers(session: Session, runner: Runner, task: OpenTask, actor: Actor, now: datetime
                 ) -> list[dict[str, Any]]:
    """Hold the timers attached to the task; what was held, with the instant each would have fired at."""
    def hold(timers: list[Task]) -> list[dict[str, Any]]:
        held = []
        for timer in timers:
            instant = spiff.hold_timer(timer, task.due_at, now)
            if instant is not None:
                held.append({"timer": timer.task_spec.name, "fire_at": _shown(instant)})
        return held

    return runner.change_boundary_timers(session, task.instance_id, task.id, hold, actor, "timers.held",
                                         agency_code=task.agency_code)


def _move_timers(session: Session, runner: Runner, task: OpenTask, span: tuple[datetime, datetime],
                 actor: Actor) -> list[dict[str, Any]]:
    """Restart the held timers of the task, each moved by ``span`` (the one at the task's old deadline to
    its new one); what moved, from when to when."""
    unit = _unit(runner.deadlines, task)

    def move(instant: datetime, in_step: bool) -> datetime:
        if in_step and task.due_at is not None:
            return task.due_at
        return shift_instant(instant, span[0], span[1], unit, runner.deadlines)

    def release(timers: list[Task]) -> list[dict[str, Any]]:
        return [{"timer": moved.timer, "interrupting": moved.interrupting, "before": _shown(moved.before),
                 "after": _shown(moved.after)}
                for timer in timers if (moved := spiff.release_timer(timer, move, span)) is not None]

    return runner.change_boundary_timers(session, task.instance_id, task.id, release, actor, "timers.moved",
                                         agency_code=task.agency_code)


def _shown(instant: datetime) -> str:
    """An instant as the audit shows deadlines: in Asia/Shanghai."""
    return instant.astimezone(SHANGHAI).isoformat()


def shift_instant(instant: datetime, suspended_from: datetime, resumed_at: datetime, unit: PeriodUnit,
                  deadlines: DeadlineService) -> datetime:
    """An instant moved by a suspension as a deadline on its day would be (whole days, the unit's
    counting), keeping its time of day (Asia/Shanghai)."""
    local = instant.astimezone(SHANGHAI)
    moved = shift_for_suspension(Deadline.ending_on(local.date(), provisional=False), suspended_from, resumed_at,
                                 unit, deadlines.calendar)
    return datetime.combine(moved.last_day, local.time(), tzinfo=SHANGHAI)


def _unit(deadlines: DeadlineService, task: OpenTask) -> PeriodUnit:
    """How the task's deadline counts days ('wd' or 'cd'); calendar days for a task without a rule."""
    if task.deadline_rule is None:
        return "cd"
    received_at = task.received_at or task.deadline_start
    if received_at is None:
        return "cd"
    return deadlines.policy.rule_for(task.deadline_rule, received_at).period.unit


def timer_adjuster(session: Session, deadlines: DeadlineService) -> Callable[[Task, datetime], datetime]:
    """Moves a re-evaluated boundary timer (a calendar year was entered) by the suspensions it was moved
    by before: to its task's recomputed deadline when it is the timer of that deadline, else span by
    span. Without this a re-evaluation would silently give back the suspended days."""
    def adjust(timer: Task, fire_at: datetime) -> datetime:
        task_id = spiff.attached_task_id(timer)
        task = session.get(OpenTask, task_id) if task_id is not None else None
        if task is not None and task.deadline_rule is not None and task.deadline_start is not None:
            unsuspended = deadlines.due(task.deadline_rule, task.deadline_start,
                                        task.received_at or task.deadline_start, task.deadline_extended)
            if fire_at == unsuspended.due_at:
                return recompute_deadline(session, deadlines, task).due_at
        unit = _unit(deadlines, task) if task is not None else "cd"
        for suspended_from, resumed_at in spiff.timer_spans(timer):
            fire_at = shift_instant(fire_at, suspended_from, resumed_at, unit, deadlines)
        return fire_at

    return adjust


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
