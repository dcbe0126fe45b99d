"""The workflow runner: every transition of an instance, written in the caller's transaction.

One transition (start, complete a task, deliver a message, fire timers, move to another spec version)
= load the instance and check its version → run SpiffWorkflow in memory → route outgoing messages (to
a waiting instance, to a spec whose start event catches them, or park them: ``engine.messages``) →
bring the task index, message subscriptions and timer index in line (``engine.task_index``) and
audit → save the state with ``version = version + 1 WHERE version = read``. A lost race updates no
row and raises ``Conflict``: never a lost update. The runner never commits; the caller's unit of
work does, once. Who may act on a task is ``engine.task_access``'s to say (``Runner.tasks``); the
form check is ``engine.forms``'s.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.task import Task
from sqlalchemy import Row, select, update
from sqlalchemy.orm import Session

from engine import audit, messages, spiff
from engine.actors import SYSTEM, Actor, LanePolicy
from engine.bpmn.loader import SpecBundle, TaskDefinition
from engine.clock import Clock
from engine.db import statements as sql
from engine.db.tables import OpenTask, SpecVersion
from engine.deadlines.ladder import Escalation, Ladders
from engine.deadlines.service import DeadlineService
from engine.errors import Conflict, NotFound, ScriptError
from engine.forms import validate_form
from engine.sandbox import ScriptServices, bind_services, reset_services, root_cause
from engine.serialization import dump_state, fresh_top_spec, load_state
from engine.specs import SpecCache, deployed_starting_with
from engine.task_access import TaskAccess
from engine.task_index import OpenedTask, RuleRegion, Snapshot, TaskIndex

__all__ = ["SYSTEM", "Actor", "CompletionResult", "InstanceRecord", "OpenedTask", "Runner", "TaskView",
           "TransitionContext", "TransitionHooks"]


@dataclass
class TransitionContext:
    """One call into the runner: its session, instant and actor, and the tasks its transitions opened
    (a message may chain several transitions of several instances into one call)."""

    session: Session
    now: datetime
    actor: Actor
    opened: list[OpenedTask] = field(default_factory=list)
    submitted: dict[str, Any] = field(default_factory=dict)  # form data of the task being completed
    task_agency: str | None = None  # agency of the task being completed


class TransitionHooks(Protocol):
    """The product's side of a transition (complaints, cases, notices) — kept out of the engine."""

    def script_services(self, ctx: TransitionContext, instance: InstanceRecord) -> ScriptServices: ...

    def after_transition(self, ctx: TransitionContext, instance: InstanceRecord, workflow: BpmnWorkflow,
                         opened: list[OpenedTask]) -> None: ...

    def agency_kind(self, session: Session, agency_code: str | None) -> str | None: ...


@dataclass
class InstanceRecord:
    """The ``process_instances`` row a transition works on; ``version`` and ``status`` follow its save."""

    id: int
    spec_version_id: int
    status: str
    version: int
    complaint_id: int | None
    state: str = ""


@dataclass
class _Loaded:
    record: InstanceRecord
    bundle: SpecBundle
    workflow: BpmnWorkflow
    before: Snapshot


@dataclass(frozen=True)
class CompletionResult:
    """What completing a task did: the tasks it opened (in any instance) and the instance's new status."""

    instance_id: int
    completed_task: str
    next_tasks: list[OpenedTask]
    instance_status: str


@dataclass(frozen=True)
class TaskView:
    """An open task for display: its ``open_tasks`` row, its form definition and its live data."""

    task: Row[Any]
    definition: TaskDefinition | None
    data: dict[str, Any]


class Runner:
    """Runs transitions. ``lanes`` is the product's rule for who works which tasks; ``ladders`` the
    escalation ladder per agency kind (the default ladder for every kind when not given)."""

    def __init__(self, clock: Clock, specs: SpecCache, deadlines: DeadlineService, hooks: TransitionHooks,
                 lanes: LanePolicy, ladders: Ladders | None = None, regions: RuleRegion | None = None) -> None:
        self.clock = clock
        self.specs = specs
        self.deadlines = deadlines
        self.hooks = hooks
        self.tasks = TaskAccess(clock, lanes)
        self.escalation = Escalation(ladders or Ladders(), self._agency_kind, deadlines)
        self.index = TaskIndex(deadlines, self.escalation, regions)

    # ---------------------------------------------------------------- public transitions

    def start(self, session: Session, version: SpecVersion, data: dict[str, Any], actor: Actor,
              complaint_id: int | None = None) -> tuple[InstanceRecord, list[OpenedTask]]:
        ctx = TransitionContext(session, self.clock.now(), actor)
        loaded = self._create(ctx, version, data, complaint_id)
        self._transition(ctx, loaded, lambda wf: wf.do_engine_steps(), "instance.started", {"spec": version.key})
        return loaded.record, ctx.opened

    def complete_task(self, session: Session, task_id: str, data: dict[str, Any], actor: Actor,
                      expected_version: int | None = None) -> CompletionResult:
        ctx = TransitionContext(session, self.clock.now(), actor)
        row = self._task_and_instance(session, task_id, actor)
        self.tasks.check_may_complete(row, actor)
        loaded = self._restore(session, _instance_of(row))
        if expected_version is not None and loaded.record.version != expected_version:
            raise Conflict("流程实例已被他人修改，请刷新后重试 / the instance changed since you read it")
        task = loaded.before.ready.get(task_id)
        if task is None:
            raise Conflict("任务已不能办理，请刷新后查看 / the task is no longer ready")
        definition = loaded.bundle.task(row.process_id, row.task_name)
        clean = validate_form(definition, data, own_agency=row.agency_code)
        ctx.submitted, ctx.task_agency = clean, row.agency_code
        self._transition(ctx, loaded, lambda wf: spiff.run_task(wf, task, clean), "task.completed",
                         {"task": row.task_name, "title": row.title, "data": clean}, task_id=task_id,
                         agency_code=row.agency_code)
        return CompletionResult(loaded.record.id, task_id, ctx.opened, loaded.record.status)

    def deliver(self, session: Session, name: str, payload: Any, correlations: dict[str, Any] | None,
                actor: Actor = SYSTEM) -> str:
        """Route a message from outside (an integration); returns where it went."""
        ctx = TransitionContext(session, self.clock.now(), actor)
        return self._route(ctx, spiff.OutgoingMessage(name, payload, correlations or {}), None, 0)

    def fire_timers(self, session: Session, instance_id: int, actor: Actor = SYSTEM) -> InstanceRecord:
        ctx = TransitionContext(session, self.clock.now(), actor)
        loaded = self._load(session, instance_id)
        self._transition(ctx, loaded, spiff.fire_timers, "timers.fired", {})
        return loaded.record

    def recompute_timers(self, session: Session, instance_id: int, actor: Actor = SYSTEM) -> InstanceRecord:
        """Re-evaluate the instants of waiting timers (after the calendar or a rule changed)."""
        from engine.deadlines.suspension import timer_adjuster  # suspension builds on the runner

        ctx = TransitionContext(session, self.clock.now(), actor)
        loaded = self._load(session, instance_id)
        adjust = timer_adjuster(session, self.deadlines)
        self._transition(ctx, loaded, lambda wf: spiff.reevaluate_timers(wf, adjust), "timers.recomputed", {})
        return loaded.record

    def change_boundary_timers(self, session: Session, instance_id: int, task_id: str,
                               change: Callable[[list[Task]], list[dict[str, Any]]], actor: Actor,
                               audit_action: str, agency_code: str | None = None) -> list[dict[str, Any]]:
        """Hold or move the waiting timers attached to a task (its clock stopped or restarted) as one
        transition, audited with what ``change`` reports; a task without such timers is left alone (no
        save, no audit) and answers ``[]``."""
        ctx = TransitionContext(session, self.clock.now(), actor)
        loaded = self._load(session, instance_id)
        timers = spiff.boundary_timers(loaded.workflow, task_id)
        if not timers:
            return []
        changed: list[dict[str, Any]] = []  # filled by the action, read by the audit after it ran
        self._transition(ctx, loaded, lambda wf: changed.extend(change(timers)), audit_action,
                         {"timers": changed}, task_id=task_id, agency_code=agency_code)
        return changed

    def transition_to_version(self, session: Session, instance_id: int, version_id: int,
                              action: Callable[[BpmnWorkflow], Any], actor: Actor, details: dict[str, Any]) -> None:
        """Run ``action`` (which rebinds the workflow to another spec version) as one transition."""
        ctx = TransitionContext(session, self.clock.now(), actor)
        loaded = self._load(session, instance_id)
        loaded.bundle = self.specs.get(session, version_id)
        loaded.record.spec_version_id = version_id
        self._transition(ctx, loaded, action, "instance.migrated", details)

    def redirect_pool(self, session: Session, instance_id: int, process_id: str, agency_code: str, actor: Actor,
                      reason: str, audit_action: str = "pool.redirected",
                      details: dict[str, Any] | None = None) -> list[OpenedTask]:
        """Hand a pool's open tasks to another agency, as one transition: the variable the pool's ``agency``
        expression names is set to ``agency_code`` in the data of the pool's READY tasks (later tasks inherit
        it), and those tasks' index rows are re-resolved from the expression: their agency changes, a claim
        is released, the deadline and its rungs stay. Audited as ``audit_action`` with ``from``, ``to`` and
        ``reason``; the hooks hear of the tasks as arrived at the new agency. Answers the redirected tasks.

        Refused (``Conflict``) when the pool has no READY task or its ``agency`` is not a plain variable."""
        ctx = TransitionContext(session, self.clock.now(), actor)
        loaded = self._load(session, instance_id)
        variable = str(loaded.bundle.process_properties.get(process_id, {}).get("agency") or "").strip()
        if not variable.isidentifier():
            raise Conflict(f"流程 {process_id} 的办理单位不是一个变量，不能改派 / the agency of pool {process_id!r} is "
                           f"not a variable: {variable!r}")
        tasks = [task for task in loaded.before.ready.values() if task.workflow.spec.name == process_id]
        rows = {row.id: row for row in session.scalars(select(OpenTask).where(
            OpenTask.id.in_([str(task.id) for task in tasks])))} if tasks else {}
        if not rows:
            raise Conflict(f"流程 {process_id} 没有待办任务 / pool {process_id!r} has no open task")
        previous = sorted({row.agency_code or "" for row in rows.values()})
        released = {row.task_name: row.assignee for row in rows.values() if row.assignee}  # before the update
        resolved: dict[str, str] = {}

        def redirect(_workflow: BpmnWorkflow) -> None:
            for task in tasks:
                task.data[variable] = agency_code
                resolved[str(task.id)] = str(task.workflow.script_engine.evaluate(task, variable))

        with spiff.engine_clock(self.clock):
            _run_engine(redirect, loaded.workflow)
        self._save(ctx, loaded)
        redirected: list[OpenedTask] = []
        for task_id, row in rows.items():
            session.execute(update(OpenTask).where(OpenTask.id == task_id)
                            .values(agency_code=resolved[task_id], assignee=None))
            redirected.append(OpenedTask(
                id=row.id, instance_id=row.instance_id, complaint_id=row.complaint_id, task_name=row.task_name,
                title=row.title, process_id=row.process_id, lane=row.lane, agency_code=resolved[task_id],
                deadline_rule=row.deadline_rule, deadline_start=row.deadline_start,
                deadline_extended=row.deadline_extended, received_at=row.received_at, due_at=row.due_at,
                provisional=row.provisional, created_at=row.created_at))
        record = loaded.record
        self.audit(session, actor, audit_action, record.id, record.complaint_id, None, {
            **(details or {}), "process": process_id, "from": previous[0] if len(previous) == 1 else previous,
            "to": agency_code, "reason": reason, "tasks": [t.task_name for t in redirected],
            "released": released,
            "version": record.version}, at=ctx.now)
        ctx.task_agency = previous[0] if len(previous) == 1 else None
        ctx.opened.extend(redirected)
        self.hooks.after_transition(ctx, record, loaded.workflow, redirected)
        return redirected

    # ---------------------------------------------------------------- reading

    def load_workflow(self, session: Session, instance_id: int) -> BpmnWorkflow:
        """The live workflow of an instance, read-only use (reports, migration plans)."""
        return self._load(session, instance_id).workflow

    def task_view(self, session: Session, task_id: str, actor: Actor) -> TaskView:
        """A task the actor's agency may see, with its form and the data it was opened with: one query
        for the task and its instance, one restore of the workflow."""
        row = self._task_and_instance(session, task_id, actor)
        bundle = self.specs.get(session, row.i_spec_version_id)
        workflow = spiff.attach(load_state(row.i_state, bundle.resumable_top_spec, bundle.subprocess_specs))
        live = spiff.find_task(workflow, task_id)
        return TaskView(row, bundle.task(row.process_id, row.task_name), dict(live.data) if live else {})

    def audit(self, session: Session, actor: Actor, action: str, instance_id: int | None,
              complaint_id: int | None, task_id: str | None, details: dict[str, Any],
              at: datetime | None = None, agency_code: str | None = None) -> None:
        """Audit an actor's action (see ``engine.audit``); the agency is the actor's unless one is given."""
        audit.record(session, actor=actor.username, action=action, at=at or self.clock.now(),
                     agency_code=agency_code or actor.agency_code, instance_id=instance_id,
                     complaint_id=complaint_id, task_id=task_id, details=details)

    # ---------------------------------------------------------------- loading and saving

    def _agency_kind(self, session: Session, agency_code: str | None) -> str | None:
        """Asked of the hooks at the time of use, so a runner built without hooks (one that only reads
        workflows) can still be built."""
        return self.hooks.agency_kind(session, agency_code)

    def _task_and_instance(self, session: Session, task_id: str, actor: Actor) -> Row[Any]:
        """The task (if open in the actor's agency) and its instance, in one round trip (instance
        columns prefixed ``i_``)."""
        row = session.connection().execute(sql.TASK_AND_INSTANCE, {"task_id": task_id}).one_or_none()
        if row is None or actor.agency_code is None or row.agency_code != actor.agency_code:
            self.tasks.refuse_invisible(session, task_id, actor, missing=row is None)
        return row

    def _create(self, ctx: TransitionContext, version: SpecVersion, data: dict[str, Any],
                complaint_id: int | None) -> _Loaded:
        bundle = self.specs.get(ctx.session, version.id)
        workflow = spiff.new_workflow(fresh_top_spec(bundle.top_spec), bundle.subprocess_specs, data)
        instance_id = ctx.session.connection().execute(sql.INSERT_INSTANCE, {
            "spec_version_id": version.id, "status": "running", "state": "", "version": 0,
            "complaint_id": complaint_id, "created_at": ctx.now, "updated_at": ctx.now}).scalar_one()
        record = InstanceRecord(instance_id, version.id, "running", 0, complaint_id)
        return _Loaded(record, bundle, workflow, Snapshot.empty())

    def _load(self, session: Session, instance_id: int) -> _Loaded:
        row = session.connection().execute(sql.INSTANCE_BY_ID, {"instance_id": instance_id}).one_or_none()
        if row is None:
            raise NotFound("未找到流程实例 / process instance not found")
        return self._restore(session, InstanceRecord(*row))

    def _restore(self, session: Session, record: InstanceRecord) -> _Loaded:
        bundle = self.specs.get(session, record.spec_version_id)
        workflow = spiff.attach(load_state(record.state, bundle.resumable_top_spec, bundle.subprocess_specs))
        return _Loaded(record, bundle, workflow, Snapshot.of(workflow))

    def _transition(self, ctx: TransitionContext, loaded: _Loaded, action: Callable[[BpmnWorkflow], Any],
                    audit_action: str, details: dict[str, Any], task_id: str | None = None, hops: int = 0,
                    agency_code: str | None = None) -> None:
        token = bind_services(self.hooks.script_services(ctx, loaded.record))
        try:
            with spiff.engine_clock(self.clock):
                _run_engine(action, loaded.workflow)
                self._settle(ctx, loaded, hops)
        finally:
            reset_services(token)
        self._save(ctx, loaded)  # first: the version check takes the row lock before any index write
        record = loaded.record
        loaded.before, opened = self.index.sync(
            ctx.session, instance_id=record.id, complaint_id=record.complaint_id, bundle=loaded.bundle,
            workflow=loaded.workflow, before=loaded.before, now=ctx.now)
        ctx.opened.extend(opened)
        self.audit(ctx.session, ctx.actor, audit_action, record.id, record.complaint_id, task_id,
                   {**details, "version": record.version, "status": record.status,
                    "opened": [t.task_name for t in opened]}, at=ctx.now, agency_code=agency_code)
        self.hooks.after_transition(ctx, record, loaded.workflow, opened)

    def _settle(self, ctx: TransitionContext, loaded: _Loaded, hops: int) -> None:
        """Route what the workflow sent, then take in parked messages it now waits for, until quiet."""
        for _ in range(messages.MAX_MESSAGE_HOPS):
            outgoing = spiff.take_outgoing(loaded.workflow)
            for message in outgoing:
                self._route(ctx, message, loaded.record.id, hops + 1)
            new_waits = spiff.waiting_messages(loaded.workflow) - loaded.before.messages
            if not messages.take_parked(ctx.session, loaded.workflow, new_waits) and not outgoing:
                return
        hops_limit = messages.MAX_MESSAGE_HOPS
        raise ScriptError(f"流程消息在实例之间往复不止，已在 {hops_limit} 轮后停止 / messages keep bouncing between "
                          f"instances: stopped after {hops_limit} rounds")

    def _route(self, ctx: TransitionContext, message: spiff.OutgoingMessage, source: int | None, hops: int) -> str:
        """Deliver to a waiting instance, else start the specs whose start event catches the message,
        else park it; answers where it went."""
        if hops > messages.MAX_MESSAGE_HOPS:
            raise ScriptError("流程消息的传递无法结束 / message routing does not terminate")
        target = messages.subscriber(ctx.session, message, source)
        if target is not None:
            loaded = self._load(ctx.session, target)
            self._transition(ctx, loaded, lambda wf: spiff.deliver_message(
                wf, message.name, message.payload, message.correlations), "message.received",
                {"message": message.name, "from_instance": source}, hops=hops)
            return f"instance:{target}"
        for version in deployed_starting_with(ctx.session, message.name):
            payload = message.payload if isinstance(message.payload, dict) else {}
            complaint_id = payload.get("complaint_id") if isinstance(payload.get("complaint_id"), int) else None
            loaded = self._create(ctx, version, {}, complaint_id)

            def start_and_deliver(wf: BpmnWorkflow) -> None:
                wf.do_engine_steps()
                spiff.deliver_message(wf, message.name, message.payload, message.correlations)

            self._transition(ctx, loaded, start_and_deliver, "instance.started",
                             {"spec": version.key, "message": message.name, "from_instance": source}, hops=hops)
            return f"new:{loaded.record.id}"
        messages.park(ctx.session, message, source, ctx.now)
        return "parked"

    def _save(self, ctx: TransitionContext, loaded: _Loaded) -> None:
        record = loaded.record
        status = "completed" if loaded.workflow.completed else "running"
        result = ctx.session.connection().execute(sql.SAVE_INSTANCE, {
            "b_id": record.id, "b_version": record.version, "b_state": dump_state(loaded.workflow),
            "b_new_version": record.version + 1, "b_status": status, "b_updated_at": ctx.now,
            "b_spec_version_id": record.spec_version_id})
        if result.rowcount != 1:
            raise Conflict("流程实例已被他人修改，请刷新后重试 / the instance was changed by someone else; reload and "
                           "try again")
        record.version += 1
        record.status = status


def _instance_of(row: Row[Any]) -> InstanceRecord:
    return InstanceRecord(row.i_id, row.i_spec_version_id, row.i_status, row.i_version, row.i_complaint_id,
                          row.i_state)


def _run_engine(action: Callable[[BpmnWorkflow], Any], workflow: BpmnWorkflow) -> None:
    try:
        action(workflow)
    except WorkflowException as exc:
        cause = root_cause(exc)
        element = getattr(getattr(exc, "task_spec", None), "name", None) or getattr(
            getattr(getattr(exc, "task", None), "task_spec", None), "name", "?")
        if isinstance(cause, ScriptError):
            raise type(cause)(f"{element}: {cause}") from None
        raise ScriptError(f"流程在 {element} 处出错 / workflow error at {element}: {cause}") from None
