"""In-memory operations on one SpiffWorkflow instance; no database, no product rules.

The runner (``engine.runner``) loads a workflow, calls these, and writes what they report — ready
human tasks, waiting messages, pending timers, outgoing messages — into the index tables.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

import SpiffWorkflow.bpmn.specs.event_definitions.timer as spiff_timer
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from engine.clock import Clock
from engine.sandbox import make_script_engine

_engine_clock: ContextVar[Clock | None] = ContextVar("engine_clock", default=None)


class _ClockedDatetime(datetime):
    """SpiffWorkflow's timers read ``datetime.now``; this makes them read the product's clock."""

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]  # datetime.now returns Self
        clock = _engine_clock.get()
        if clock is None:
            return datetime.now(tz)
        value = clock.now()
        return value.astimezone(tz) if tz is not None else value


spiff_timer.datetime = _ClockedDatetime  # the one patch: every engine datetime.now is in timer.py


@contextmanager
def engine_clock(clock: Clock) -> Iterator[None]:
    token = _engine_clock.set(clock)
    try:
        yield
    finally:
        _engine_clock.reset(token)


SCRIPT_ENGINE = make_script_engine()


@dataclass(frozen=True)
class OutgoingMessage:
    name: str
    payload: Any
    correlations: dict[str, Any]

    @property
    def correlation(self) -> str | None:
        return correlation_key(self.correlations)


@dataclass(frozen=True)
class WaitingMessage:
    name: str
    correlation: str | None


@dataclass(frozen=True)
class WaitingTimer:
    task_id: str
    task_name: str
    fire_at: datetime


def correlation_key(correlations: dict[str, Any] | None) -> str | None:
    """One comparable string for a message's correlation values (``None`` when uncorrelated)."""
    if not correlations:
        return None
    flat: dict[str, Any] = {}
    for values in correlations.values():
        if isinstance(values, dict):
            flat.update(values)
    return json.dumps(flat, sort_keys=True, separators=(",", ":"), default=str) if flat else None


def new_workflow(top_spec: Any, subprocess_specs: dict[str, Any], data: dict[str, Any]) -> BpmnWorkflow:
    workflow = BpmnWorkflow(top_spec, subprocess_specs, script_engine=SCRIPT_ENGINE)
    workflow.task_tree.data.update(data)
    return workflow


def attach(workflow: BpmnWorkflow) -> BpmnWorkflow:
    """The script engine is not serialized: re-attach it after every load."""
    workflow.script_engine = SCRIPT_ENGINE
    return workflow


def ready_human_tasks(workflow: BpmnWorkflow) -> list[Task]:
    """READY manual tasks of the workflow and its subprocesses (a flat registry in SpiffWorkflow 3).

    A scan of the task dicts, not ``get_tasks``: the tree iterator costs several times more and the
    runner asks twice per transition."""
    return [task for flow in (workflow, *workflow.subprocesses.values()) for task in flow.tasks.values()
            if task.state == TaskState.READY and task.task_spec.manual]


def find_task(workflow: BpmnWorkflow, task_id: str) -> Task | None:
    from uuid import UUID

    try:
        return workflow.get_task_from_id(UUID(task_id))
    except (ValueError, KeyError):
        return None


def run_task(workflow: BpmnWorkflow, task: Task, data: dict[str, Any]) -> None:
    task.data.update(data)
    task.run()
    workflow.do_engine_steps()


def take_outgoing(workflow: BpmnWorkflow) -> list[OutgoingMessage]:
    """Messages nobody in this workflow caught; ``get_events`` empties the queue."""
    out = []
    for event in workflow.get_events():
        definition = event.event_definition
        if isinstance(definition, MessageEventDefinition):
            out.append(OutgoingMessage(definition.name, event.payload, dict(event.correlations or {})))
    return out


def _catch_tasks(workflow: BpmnWorkflow) -> Iterator[Task]:
    for task in workflow.event_manager.tasks.values():
        if task.state == TaskState.WAITING:
            yield task


def waiting_messages(workflow: BpmnWorkflow) -> set[WaitingMessage]:
    result = set()
    for task in _catch_tasks(workflow):
        definition = task.task_spec.event_definition
        for sub in getattr(definition, "event_definitions", None) or [definition]:
            if isinstance(sub, MessageEventDefinition):
                result.add(WaitingMessage(sub.name, correlation_key(task.workflow.correlations)))
    return result


def waiting_timers(workflow: BpmnWorkflow) -> set[WaitingTimer]:
    """Pending timers with their computed instants (evaluated when the timer was reached)."""
    result = set()
    for task in _catch_tasks(workflow):
        definition = task.task_spec.event_definition
        for sub in getattr(definition, "event_definitions", None) or [definition]:
            if not isinstance(sub, TimerEventDefinition):
                continue
            value = task._get_internal_data("event_value")
            if isinstance(value, dict):  # cycle timers keep {"next": ...}
                value = value.get("next")
            if isinstance(value, str):
                try:
                    fire_at = TimerEventDefinition.parse_time_or_duration(value)
                except Exception:
                    continue
                if isinstance(fire_at, datetime):
                    result.add(WaitingTimer(str(task.id), task.task_spec.name, fire_at.astimezone(UTC)))
    return result


def deliver_message(workflow: BpmnWorkflow, name: str, payload: Any, correlations: dict[str, Any] | None) -> bool:
    """Deliver a message from outside; False when nothing in this workflow waits for it."""
    event = BpmnEvent(MessageEventDefinition(name), payload, correlations or {})
    caught = workflow.event_manager.catch(event, internal=False)
    if caught:
        workflow.do_engine_steps()
    return bool(caught)


def reevaluate_timers(workflow: BpmnWorkflow) -> None:
    """Forget computed timer instants so their expressions run again (e.g. on a new calendar)."""
    for task in _catch_tasks(workflow):
        if isinstance(task.task_spec.event_definition, TimerEventDefinition):
            task.internal_data.pop("event_value", None)
    fire_timers(workflow)


def fire_timers(workflow: BpmnWorkflow) -> None:
    """Let every timer whose instant has passed (by the injected clock) fire, then advance."""
    workflow.refresh_timers()
    workflow.do_engine_steps()
