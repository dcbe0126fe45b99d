"""The index tables that mirror what a workflow waits for, and the tasks a transition opens.

A running instance waits on human tasks, messages and timers. Its state is one serialised blob, so
the inbox, message routing and the timer sweep read indexes instead: ``open_tasks`` (with the
escalation rungs of each task's deadline), ``message_subscriptions`` and ``pending_timers``. After
every transition the runner compares what the workflow waited for before and after (two
``Snapshot``s) and writes only the difference here, in the transition's own transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.task import Task
from sqlalchemy import delete, insert
from sqlalchemy.orm import Session

from engine import messages, spiff
from engine.bpmn.loader import SpecBundle
from engine.db import statements as sql
from engine.db.tables import PendingTimer
from engine.deadlines.ladder import Escalation
from engine.deadlines.service import DeadlineService, as_instant
from engine.errors import ScriptError
from engine.sandbox import root_cause


class RuleRegion(Protocol):
    """The product's answer to "where is this agency?", for deadline rules that differ by province: the
    GB/T 2260 region code of the agency working a task (``None`` when unknown). The index then applies
    the province's own rule (``<rule>_<prefix>``) when the rules table has one, else the named rule."""

    def region_of(self, session: Session, agency_code: str) -> str | None: ...


@dataclass(frozen=True, slots=True)
class OpenedTask:
    """A human task a transition opened, as written to ``open_tasks`` (unclaimed, clock running)."""

    id: str
    instance_id: int
    complaint_id: int | None
    task_name: str
    title: str
    process_id: str
    lane: str | None
    agency_code: str | None
    deadline_rule: str | None
    deadline_start: datetime | None
    deadline_extended: bool
    received_at: datetime | None
    due_at: datetime | None
    provisional: bool
    created_at: datetime
    assignee: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The task as the ``open_tasks`` row it is. (API answers read its attributes: their models
        validate from attributes.)"""
        return {
            "id": self.id, "instance_id": self.instance_id, "complaint_id": self.complaint_id,
            "task_name": self.task_name, "title": self.title, "process_id": self.process_id, "lane": self.lane,
            "agency_code": self.agency_code, "assignee": self.assignee, "deadline_rule": self.deadline_rule,
            "deadline_start": self.deadline_start, "deadline_extended": self.deadline_extended,
            "received_at": self.received_at, "due_at": self.due_at, "provisional": self.provisional,
            "suspended_at": None, "created_at": self.created_at,
        }


@dataclass(frozen=True)
class Snapshot:
    """What a workflow waits for at one moment: READY human tasks by id, messages, timers."""

    ready: dict[str, Task]
    messages: set[spiff.WaitingMessage]
    timers: set[spiff.WaitingTimer]

    @classmethod
    def of(cls, workflow: BpmnWorkflow) -> Snapshot:
        return cls({str(t.id): t for t in spiff.ready_human_tasks(workflow)},
                   spiff.waiting_messages(workflow), spiff.waiting_timers(workflow))

    @classmethod
    def empty(cls) -> Snapshot:
        """A workflow not yet started waits for nothing."""
        return cls({}, set(), set())


class TaskIndex:
    """Writes the difference between two snapshots of an instance into the index tables."""

    def __init__(self, deadlines: DeadlineService, escalation: Escalation,
                 regions: RuleRegion | None = None) -> None:
        self.deadlines = deadlines
        self.escalation = escalation
        self.regions = regions

    def sync(self, session: Session, *, instance_id: int, complaint_id: int | None, bundle: SpecBundle,
             workflow: BpmnWorkflow, before: Snapshot, now: datetime) -> tuple[Snapshot, list[OpenedTask]]:
        """Write only what changed (finished and new tasks with their rungs, subscriptions, timers);
        answers the workflow's new snapshot and the tasks it opened."""
        after = Snapshot.of(workflow)
        connection = session.connection()
        gone = [tid for tid in before.ready if tid not in after.ready]
        if gone:
            connection.execute(sql.DELETE_TASKS, {"ids": gone})
            connection.execute(sql.DELETE_STEPS_OF_TASKS, {"ids": gone})
        opened = [self._opened(session, task, instance_id, complaint_id, bundle, now)
                  for tid, task in after.ready.items() if tid not in before.ready]
        if opened:
            connection.execute(sql.INSERT_TASKS, [task.as_dict() for task in opened])
            steps = self.escalation.rows_for(session, opened)
            if steps:
                connection.execute(sql.INSERT_STEPS, steps)
        messages.sync_subscriptions(session, instance_id, before.messages, after.messages)
        stale_timers = {t.task_id for t in before.timers - after.timers}
        if stale_timers:
            session.execute(delete(PendingTimer).where(PendingTimer.id.in_(stale_timers)))
        new_timers = after.timers - before.timers
        if new_timers:
            session.execute(insert(PendingTimer), [
                {"id": t.task_id, "instance_id": instance_id, "task_name": t.task_name, "fire_at": t.fire_at}
                for t in new_timers])
        return after, opened

    def _opened(self, session: Session, task: Task, instance_id: int, complaint_id: int | None,
                bundle: SpecBundle, now: datetime) -> OpenedTask:
        """The index row of a READY task: its agency from the pool's ``agency`` expression, its deadline
        from the task's rule (the agency's province's own version of it, if any), counted from
        ``deadline_from`` (or now). The row keeps the rule actually applied, so a resumption or a
        recomputation counts by the same one."""
        process_id = task.workflow.spec.name
        definition = bundle.task(process_id, task.task_spec.name)
        agency_expr = bundle.process_properties.get(process_id, {}).get("agency")
        agency = _evaluate(task, agency_expr) if agency_expr else None
        due_at, provisional, rule, start, extended, received_at = None, False, None, None, False, None
        if definition is not None and definition.deadline_rule:
            start = as_instant(_evaluate(task, definition.deadline_from) or now) if definition.deadline_from \
                else now
            extended = bool(_evaluate(task, definition.deadline_extended)) if definition.deadline_extended else False
            raw_received = task.data.get("received_at")
            received_at = as_instant(raw_received) if raw_received else start
            rule = self._rule_for(session, definition.deadline_rule, str(agency) if agency else None, received_at)
            deadline = self.deadlines.due(rule, start, received_at, extended)
            due_at, provisional = deadline.due_at, deadline.provisional
        return OpenedTask(
            id=str(task.id), instance_id=instance_id, complaint_id=complaint_id, task_name=task.task_spec.name,
            title=definition.title if definition else task.task_spec.name, process_id=process_id,
            lane=getattr(task.task_spec, "lane", None), agency_code=str(agency) if agency else None,
            deadline_rule=rule, deadline_start=start, deadline_extended=extended, received_at=received_at,
            due_at=due_at, provisional=provisional, created_at=now)

    def _rule_for(self, session: Session, rule: str, agency_code: str | None, received_at: datetime) -> str:
        """``rule``, or its province's own version for the agency's region; the product is asked for the
        region only when the rules table has a provincial version of ``rule`` at all."""
        policy = self.deadlines.policy
        if self.regions is None or agency_code is None or not policy.has_provincial(rule):
            return rule
        return policy.regional(rule, self.regions.region_of(session, agency_code), received_at)


def _evaluate(task: Task, expression: str) -> Any:
    try:
        return task.workflow.script_engine.evaluate(task, expression)
    except WorkflowException as exc:
        raise ScriptError(f"{task.task_spec.name}: {expression!r}: {root_cause(exc)}") from None
