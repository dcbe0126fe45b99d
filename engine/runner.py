"""The workflow runner: every transition of an instance, written in the caller's transaction.

One transition (start, complete a task, deliver a message, fire timers) = load the instance and check
its version → run SpiffWorkflow in memory → route outgoing messages (to a waiting instance, to a spec
whose start event catches them, or park them) → bring the task index, message subscriptions, timer
index and audit log in line → save the state with ``version = version + 1 WHERE version = read``. A
lost race updates no row and raises ``Conflict``: never a lost update. The runner never commits; the
caller's unit of work does, once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from jsonschema import Draft202012Validator
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.task import Task
from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.orm import Session

from engine import audit, spiff
from engine.bpmn.loader import SpecBundle, TaskDefinition
from engine.clock import Clock
from engine.db import statements as sql
from engine.db.tables import (
    AuditEvent,
    MessageSubscription,
    OpenTask,
    PendingMessage,
    PendingTimer,
    SpecVersion,
)
from engine.deadlines.ladder import Ladders, step_rows
from engine.deadlines.service import DeadlineService, as_instant
from engine.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound, ScriptError
from engine.forms import own_agency_errors
from engine.sandbox import ScriptServices, bind_services, reset_services, root_cause
from engine.serialization import dump_state, fresh_top_spec, load_state
from engine.specs import SpecCache, deployed_starting_with

MAX_MESSAGE_HOPS = 25
CANNOT_WORK_THIS_TASK = "该用户不能办理此任务 / this user cannot work this task"


@dataclass(frozen=True)
class Actor:
    """Who acts: a user of one agency with roles, or the system (scheduler, message routing)."""

    username: str
    agency_code: str | None = None
    roles: frozenset[str] = frozenset()

    @property
    def is_supervisor(self) -> bool:
        return "supervisor" in self.roles


SYSTEM = Actor("system", None, frozenset({"system"}))


@dataclass
class TransitionContext:
    session: Session
    now: datetime
    actor: Actor
    opened: list[dict[str, Any]] = field(default_factory=list)
    submitted: dict[str, Any] = field(default_factory=dict)  # form data of the task being completed
    task_agency: str | None = None  # agency of the task being completed


class TransitionHooks(Protocol):
    """The product's side of a transition (complaints, cases, notices) — kept out of the engine."""

    def script_services(self, ctx: TransitionContext, instance: InstanceRecord) -> ScriptServices: ...

    def after_transition(self, ctx: TransitionContext, instance: InstanceRecord, workflow: BpmnWorkflow,
                         opened: list[dict[str, Any]]) -> None: ...

    def agency_kind(self, session: Session, agency_code: str | None) -> str | None: ...


@dataclass
class InstanceRecord:
    id: int
    spec_version_id: int
    status: str
    version: int
    complaint_id: int | None
    state: str = ""


@dataclass(frozen=True)
class _Snapshot:
    ready: dict[str, Task]
    messages: set[spiff.WaitingMessage]
    timers: set[spiff.WaitingTimer]

    @classmethod
    def of(cls, workflow: BpmnWorkflow) -> _Snapshot:
        return cls({str(t.id): t for t in spiff.ready_human_tasks(workflow)},
                   spiff.waiting_messages(workflow), spiff.waiting_timers(workflow))


@dataclass
class _Loaded:
    record: InstanceRecord
    bundle: SpecBundle
    workflow: BpmnWorkflow
    before: _Snapshot


@dataclass(frozen=True)
class CompletionResult:
    instance_id: int
    completed_task: str
    next_tasks: list[dict[str, Any]]
    instance_status: str


class Runner:
    def __init__(self, clock: Clock, specs: SpecCache, deadlines: DeadlineService, hooks: TransitionHooks,
                 ladders: Ladders | None = None) -> None:
        self.clock = clock
        self.specs = specs
        self.deadlines = deadlines
        self.hooks = hooks
        self.ladders = ladders or Ladders()

    # ---------------------------------------------------------------- public transitions

    def start(self, session: Session, version: SpecVersion, data: dict[str, Any], actor: Actor,
              complaint_id: int | None = None) -> tuple[InstanceRecord, list[dict[str, Any]]]:
        ctx = TransitionContext(session, self.clock.now(), actor)
        loaded = self._create(ctx, version, data, complaint_id)
        self._transition(ctx, loaded, lambda wf: wf.do_engine_steps(), "instance.started", {"spec": version.key})
        return loaded.record, ctx.opened

    def complete_task(self, session: Session, task_id: str, data: dict[str, Any], actor: Actor,
                      expected_version: int | None = None) -> CompletionResult:
        ctx = TransitionContext(session, self.clock.now(), actor)
        row = session.connection().execute(sql.TASK_AND_INSTANCE, {"task_id": task_id}).one_or_none()
        if row is None or actor.agency_code is None or row.agency_code != actor.agency_code:
            self.visible_task(session, task_id, actor)  # raises the right error
            raise NotFound("task not found")
        self._check_may_complete(row, actor)
        loaded = self._restore(session, InstanceRecord(row.i_id, row.i_spec_version_id, row.i_status, row.i_version,
                                                       row.i_complaint_id, row.i_state))
        if expected_version is not None and loaded.record.version != expected_version:
            raise Conflict("the instance changed since you read it")
        task = loaded.before.ready.get(task_id)
        if task is None:
            raise Conflict("the task is no longer ready")
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
        ctx = TransitionContext(session, self.clock.now(), actor)
        loaded = self._load(session, instance_id)
        self._transition(ctx, loaded, spiff.reevaluate_timers, "timers.recomputed", {})
        return loaded.record

    def load_workflow(self, session: Session, instance_id: int) -> BpmnWorkflow:
        """The live workflow of an instance, read-only use (reports, migration plans)."""
        return self._load(session, instance_id).workflow

    def transition_to_version(self, session: Session, instance_id: int, version_id: int,
                              action: Callable[[BpmnWorkflow], Any], actor: Actor, details: dict[str, Any]) -> None:
        """Run ``action`` (which rebinds the workflow to another spec version) as one transition."""
        ctx = TransitionContext(session, self.clock.now(), actor)
        loaded = self._load(session, instance_id)
        loaded.bundle = self.specs.get(session, version_id)
        loaded.record.spec_version_id = version_id
        self._transition(ctx, loaded, action, "instance.migrated", details)

    def claim(self, session: Session, task_id: str, actor: Actor) -> None:
        row = self.visible_task(session, task_id, actor)
        self.check_lane(row, actor)
        previous = row.assignee  # the ORM update below synchronises ``row``: read the real "before" first
        result = session.execute(
            update(OpenTask).where(OpenTask.id == task_id, or_(OpenTask.assignee.is_(None),
                                                               OpenTask.assignee == actor.username))
            .values(assignee=actor.username))
        if result.rowcount != 1:  # type: ignore[attr-defined]
            holder = session.scalar(select(OpenTask.assignee).where(OpenTask.id == task_id))
            raise Conflict(f"任务已由 {holder} 认领 / the task is already claimed by {holder}")
        self.audit(session, actor, "task.claimed", row.instance_id, row.complaint_id, task_id,
                   {"before": {"assignee": previous}, "after": {"assignee": actor.username}})

    def release(self, session: Session, task_id: str, actor: Actor) -> None:
        row = self.visible_task(session, task_id, actor)
        previous = row.assignee
        if previous not in (None, actor.username) and not actor.is_supervisor:
            raise Forbidden("只有认领人或主管可以退回此任务 / only the assignee or a supervisor may release this task")
        session.execute(update(OpenTask).where(OpenTask.id == task_id).values(assignee=None))
        self.audit(session, actor, "task.released", row.instance_id, row.complaint_id, task_id,
                   {"before": {"assignee": previous}, "after": {"assignee": None}})

    def assign(self, session: Session, task_id: str, assignee: str, actor: Actor,
               resolve: Callable[[str], Actor | None]) -> None:
        """Hand a task to ``assignee`` (a supervisor, or the current assignee handing it on).

        The caller's right is checked before ``resolve`` looks the username up, and a username that
        is unknown, inactive, of another agency or without the task's role gets one and the same
        answer: handing over reveals nothing about who exists elsewhere."""
        row = self.visible_task(session, task_id, actor)
        previous = row.assignee
        if not (actor.is_supervisor or actor.username == previous):
            raise Forbidden("只有主管或当前认领人可以转交此任务 / only a supervisor or the current assignee may "
                            "hand a task over")
        target = resolve(assignee)
        if target is None or target.agency_code != row.agency_code or not _lane_allows(row.lane, target.roles):
            raise InvalidInput([FieldError("username", CANNOT_WORK_THIS_TASK)])
        session.execute(update(OpenTask).where(OpenTask.id == task_id).values(assignee=assignee))
        self.audit(session, actor, "task.assigned", row.instance_id, row.complaint_id, task_id,
                   {"before": {"assignee": previous}, "after": {"assignee": assignee}})

    # ---------------------------------------------------------------- loading and saving

    def visible_task(self, session: Session, task_id: str, actor: Actor) -> OpenTask:
        row = session.get(OpenTask, task_id)
        if row is not None and actor.agency_code is not None and row.agency_code == actor.agency_code:
            return row
        if row is None and actor.agency_code is not None and session.scalar(
                select(AuditEvent.id).where(AuditEvent.task_id == task_id, AuditEvent.action == "task.completed",
                                            AuditEvent.agency_code == actor.agency_code).limit(1)):
            raise Conflict("the task has already been completed")
        raise NotFound("task not found")  # another agency's task looks exactly like a missing one

    def check_lane(self, row: Any, actor: Actor) -> None:
        if not _lane_allows(row.lane, actor.roles):
            raise Forbidden(f"this task needs the role {row.lane!r}")

    def _check_may_complete(self, row: Any, actor: Actor) -> None:
        """Lane and claim, then the clock: a suspended task (waiting for a test report, say) is
        resumed first, so its deadline is recomputed and the suspension closed before it ends."""
        self.check_lane(row, actor)
        if row.assignee not in (None, actor.username) and not actor.is_supervisor:
            raise Forbidden(f"任务已由 {row.assignee} 认领 / the task is claimed by {row.assignee}")
        if row.suspended_at is not None:
            raise Conflict("任务已中止计时，请先恢复计时再办理 / the task's clock is suspended; resume it before "
                           "completing the task")

    def _create(self, ctx: TransitionContext, version: SpecVersion, data: dict[str, Any],
                complaint_id: int | None) -> _Loaded:
        bundle = self.specs.get(ctx.session, version.id)
        workflow = spiff.new_workflow(fresh_top_spec(bundle.top_spec), bundle.subprocess_specs, data)
        instance_id = ctx.session.connection().execute(sql.INSERT_INSTANCE, {
            "spec_version_id": version.id, "status": "running", "state": "", "version": 0,
            "complaint_id": complaint_id, "created_at": ctx.now, "updated_at": ctx.now}).scalar_one()
        record = InstanceRecord(instance_id, version.id, "running", 0, complaint_id)
        return _Loaded(record, bundle, workflow, _Snapshot({}, set(), set()))

    def _load(self, session: Session, instance_id: int) -> _Loaded:
        row = session.connection().execute(sql.INSTANCE_BY_ID, {"instance_id": instance_id}).one_or_none()
        if row is None:
            raise NotFound("process instance not found")
        return self._restore(session, InstanceRecord(*row))

    def _restore(self, session: Session, record: InstanceRecord) -> _Loaded:
        bundle = self.specs.get(session, record.spec_version_id)
        workflow = spiff.attach(load_state(record.state, bundle.resumable_top_spec, bundle.subprocess_specs))
        return _Loaded(record, bundle, workflow, _Snapshot.of(workflow))

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
        opened = self._sync_index(ctx, loaded)
        ctx.opened.extend(opened)
        self.audit(ctx.session, ctx.actor, audit_action, loaded.record.id, loaded.record.complaint_id, task_id,
                    {**details, "version": loaded.record.version, "status": loaded.record.status,
                     "opened": [t["task_name"] for t in opened]}, at=ctx.now, agency_code=agency_code)
        self.hooks.after_transition(ctx, loaded.record, loaded.workflow, opened)

    def _settle(self, ctx: TransitionContext, loaded: _Loaded, hops: int) -> None:
        """Route what the workflow sent, then take in parked messages it now waits for, until quiet."""
        for _ in range(MAX_MESSAGE_HOPS):
            outgoing = spiff.take_outgoing(loaded.workflow)
            for message in outgoing:
                self._route(ctx, message, loaded.record.id, hops + 1)
            if not self._take_parked(ctx, loaded) and not outgoing:
                return
        raise ScriptError("messages keep bouncing between instances: stopped after "
                          f"{MAX_MESSAGE_HOPS} rounds")

    def _take_parked(self, ctx: TransitionContext, loaded: _Loaded) -> bool:
        new = spiff.waiting_messages(loaded.workflow) - loaded.before.messages
        took = False
        for waiting in new:
            parked = ctx.session.scalars(
                select(PendingMessage).where(PendingMessage.name == waiting.name, _correlates(
                    PendingMessage.correlation, waiting.correlation)).order_by(PendingMessage.id)).all()
            for message in parked:
                body = message.payload or {}
                if spiff.deliver_message(loaded.workflow, message.name, body.get("payload"),
                                           body.get("correlations")):
                    ctx.session.delete(message)
                    took = True
        return took

    def _route(self, ctx: TransitionContext, message: spiff.OutgoingMessage, source: int | None, hops: int) -> str:
        if hops > MAX_MESSAGE_HOPS:
            raise ScriptError("message routing does not terminate")
        target = ctx.session.scalar(
            select(MessageSubscription.instance_id).where(
                MessageSubscription.name == message.name,
                _correlates(MessageSubscription.correlation, message.correlation),
                MessageSubscription.instance_id != (source or 0)).limit(1))
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
        ctx.session.add(PendingMessage(
            name=message.name, correlation=message.correlation, source_instance_id=source, created_at=ctx.now,
            payload={"payload": message.payload, "correlations": message.correlations}))
        return "parked"

    def _sync_index(self, ctx: TransitionContext, loaded: _Loaded) -> list[dict[str, Any]]:
        """Write only what changed: new/finished tasks, subscriptions and timers."""
        session, record, workflow = ctx.session, loaded.record, loaded.workflow
        after = _Snapshot.of(workflow)
        before = loaded.before
        gone = [tid for tid in before.ready if tid not in after.ready]
        connection = session.connection()
        if gone:
            connection.execute(sql.DELETE_TASKS, {"ids": gone})
            connection.execute(sql.DELETE_STEPS_OF_TASKS, {"ids": gone})
        opened = [self._task_row(ctx, loaded, task) for tid, task in after.ready.items() if tid not in before.ready]
        if opened:
            connection.execute(sql.INSERT_TASKS, opened)
            steps = [step for row in opened if row["due_at"] is not None for step in step_rows(
                row["id"], record.id, row["due_at"],
                self.ladders.for_kind(self.hooks.agency_kind(session, row["agency_code"])), self.deadlines.calendar)]
            if steps:
                connection.execute(sql.INSERT_STEPS, steps)
        for stale in before.messages - after.messages:
            session.execute(delete(MessageSubscription).where(
                MessageSubscription.instance_id == record.id, MessageSubscription.name == stale.name,
                _correlates(MessageSubscription.correlation, stale.correlation, exact=True)))
        fresh = after.messages - before.messages
        if fresh:
            session.execute(insert(MessageSubscription), [
                {"instance_id": record.id, "name": m.name, "correlation": m.correlation} for m in fresh])
        stale_timers = {t.task_id for t in before.timers - after.timers}
        if stale_timers:
            session.execute(delete(PendingTimer).where(PendingTimer.id.in_(stale_timers)))
        new_timers = after.timers - before.timers
        if new_timers:
            session.execute(insert(PendingTimer), [
                {"id": t.task_id, "instance_id": record.id, "task_name": t.task_name, "fire_at": t.fire_at}
                for t in new_timers])
        loaded.before = after
        return opened

    def _task_row(self, ctx: TransitionContext, loaded: _Loaded, task: Task) -> dict[str, Any]:
        process_id = task.workflow.spec.name
        definition = loaded.bundle.task(process_id, task.task_spec.name)
        agency_expr = loaded.bundle.process_properties.get(process_id, {}).get("agency")
        agency = _evaluate(task, agency_expr) if agency_expr else None
        due_at, provisional, rule, start, extended, received_at = None, False, None, None, False, None
        if definition is not None and definition.deadline_rule:
            rule = definition.deadline_rule
            start = as_instant(_evaluate(task, definition.deadline_from) or ctx.now) if definition.deadline_from \
                else ctx.now
            extended = bool(_evaluate(task, definition.deadline_extended)) if definition.deadline_extended else False
            raw_received = task.data.get("received_at")
            received_at = as_instant(raw_received) if raw_received else start
            deadline = self.deadlines.due(rule, start, received_at, extended)
            due_at, provisional = deadline.due_at, deadline.provisional
        return {
            "id": str(task.id), "instance_id": loaded.record.id, "complaint_id": loaded.record.complaint_id,
            "task_name": task.task_spec.name, "title": definition.title if definition else task.task_spec.name,
            "process_id": process_id, "lane": getattr(task.task_spec, "lane", None),
            "agency_code": str(agency) if agency else None, "assignee": None, "deadline_rule": rule,
            "deadline_start": start, "deadline_extended": extended, "received_at": received_at,
            "due_at": due_at, "provisional": provisional, "suspended_at": None, "created_at": ctx.now,
        }

    def _save(self, ctx: TransitionContext, loaded: _Loaded) -> None:
        record = loaded.record
        status = "completed" if loaded.workflow.completed else "running"
        result = ctx.session.connection().execute(sql.SAVE_INSTANCE, {
            "b_id": record.id, "b_version": record.version, "b_state": dump_state(loaded.workflow),
            "b_new_version": record.version + 1, "b_status": status, "b_updated_at": ctx.now,
            "b_spec_version_id": record.spec_version_id})
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict("the instance was changed by someone else; reload and try again")
        record.version += 1
        record.status = status

    def audit(self, session: Session, actor: Actor, action: str, instance_id: int | None,
               complaint_id: int | None, task_id: str | None, details: dict[str, Any],
               at: datetime | None = None, agency_code: str | None = None) -> None:
        """Audit an actor's action (see ``engine.audit``); the agency is the actor's unless one is given."""
        audit.record(session, actor=actor.username, action=action, at=at or self.clock.now(),
                     agency_code=agency_code or actor.agency_code, instance_id=instance_id,
                     complaint_id=complaint_id, task_id=task_id, details=details)


def _lane_allows(lane: str | None, roles: frozenset[str]) -> bool:
    """A lane names the role that works its tasks; supervisors may also do their liaisons' work."""
    if lane is None:
        return False
    return lane in roles or (lane == "liaison" and "supervisor" in roles)


def _correlates(column: Any, value: str | None, exact: bool = False) -> Any:
    if value is None:
        return column.is_(None)
    if exact:
        return column == value
    return or_(column == value, column.is_(None))


def _evaluate(task: Task, expression: str) -> Any:
    try:
        return task.workflow.script_engine.evaluate(task, expression)
    except WorkflowException as exc:
        raise ScriptError(f"{task.task_spec.name}: {expression!r}: {root_cause(exc)}") from None


def _run_engine(action: Callable[[BpmnWorkflow], Any], workflow: BpmnWorkflow) -> None:
    try:
        action(workflow)
    except WorkflowException as exc:
        cause = root_cause(exc)
        element = getattr(getattr(exc, "task_spec", None), "name", None) or getattr(
            getattr(getattr(exc, "task", None), "task_spec", None), "name", "?")
        if isinstance(cause, ScriptError):
            raise type(cause)(f"{element}: {cause}") from None
        raise ScriptError(f"workflow error at {element}: {cause}") from None


_VALIDATORS: dict[int, tuple[TaskDefinition, Draft202012Validator]] = {}


def _validator(definition: TaskDefinition) -> Draft202012Validator:
    """One compiled validator per task definition (definitions live as long as their cached spec)."""
    cached = _VALIDATORS.get(id(definition))
    if cached is None or cached[0] is not definition:
        cached = (definition, Draft202012Validator(definition.form))
        _VALIDATORS[id(definition)] = cached
    return cached[1]


def validate_form(definition: TaskDefinition | None, data: dict[str, Any],
                  own_agency: str | None = None) -> dict[str, Any]:
    """Check submitted data against the task's JSON Schema and the form's product keywords
    (``engine.forms``: e.g. a field that must not name ``own_agency``, the completing agency);
    every error names its field."""
    if not isinstance(data, dict):
        raise InvalidInput([FieldError("data", "须为对象 / must be an object")])
    if definition is None or definition.form is None:
        return data
    validator = _validator(definition)
    errors = []
    for error in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path)):
        path = ".".join(str(p) for p in error.absolute_path)
        if error.validator == "required":
            missing = error.message.split("'")[1] if "'" in error.message else path
            path = ".".join(filter(None, [path, missing]))
        elif error.validator == "additionalProperties":
            extra = error.message.split("'")[1] if "'" in error.message else path
            path = ".".join(filter(None, [path, extra]))
        errors.append(FieldError(f"data.{path}" if path else "data", error.message))
    errors.extend(own_agency_errors(definition.form, data, own_agency))
    if errors:
        raise InvalidInput(errors)
    return data

