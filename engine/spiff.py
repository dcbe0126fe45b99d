"""In-memory operations on one SpiffWorkflow instance; no database, no product rules.

The runner (``engine.runner``) loads a workflow, calls these, and writes what they report — ready
human tasks, waiting messages, pending timers, outgoing messages — into the index tables.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

import SpiffWorkflow.bpmn.specs.event_definitions.timer as spiff_timer
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimeDateEventDefinition, TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
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
    """Pending timers with their computed instants (evaluated when the timer was reached); a timer held
    while its task's clock is stopped is not pending: it has no instant until the task resumes."""
    result = set()
    for task in _catch_tasks(workflow):
        if _HELD in task.internal_data:
            continue
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


TimerAdjuster = Callable[[Task, datetime], datetime]


def reevaluate_timers(workflow: BpmnWorkflow, adjust: TimerAdjuster | None = None) -> None:
    """Forget computed timer instants so their expressions run again (e.g. on a new calendar).

    A held timer keeps its hold (it moves when its task resumes). A timer already moved by its task's
    suspensions is evaluated again and handed to ``adjust`` to be moved again on the new calendar;
    without ``adjust`` (or for a duration or cycle timer, whose expression has no fixed instant) it
    keeps the instant it was moved to: evaluating it afresh would silently undo the suspension."""
    for task in _catch_tasks(workflow):
        definition = task.task_spec.event_definition
        if not isinstance(definition, TimerEventDefinition) or _HELD in task.internal_data:
            continue
        if not task.internal_data.get(_SPANS):
            task.internal_data.pop("event_value", None)
        elif adjust is not None and isinstance(definition, TimeDateEventDefinition):
            value = workflow.script_engine.evaluate(task, definition.expression)
            fire_at = TimerEventDefinition.get_datetime(value) if isinstance(value, str) else value
            _set_timer_instant(task, adjust(task, fire_at))
    fire_timers(workflow)


# ------------------------------------------------------------------ timers of a suspended task
#
# A boundary timer is a task's time limit in the diagram; when the task's clock stops (testing,
# appraisal), the timer must stop with it. SpiffWorkflow evaluates a waiting timer on every engine
# step of the instance (any message, any parallel task), so a timer left at its old instant would fire
# during the suspension whatever the sweep skips: the timer is therefore HELD at suspension (its
# instant is parked in internal data and SpiffWorkflow sees an instant no clock reaches) and MOVED at
# resumption (to the instant the caller computes from the parked one). Each closed span is kept on the
# timer so a later re-evaluation can move it again.

_HELD = "clock_held"  # the instant the timer had when its task was suspended (ISO-8601)
_IN_STEP = "clock_in_step"  # whether that instant was the task's deadline
_SPANS = "clock_spans"  # [[suspended_at, resumed_at], ...] the timer has been moved by
NEVER = "9999-12-31T23:59:59+00:00"  # the instant a held timer waits for: no clock reaches it


@dataclass(frozen=True)
class MovedTimer:
    """One boundary timer moved by a task's suspension, for the audit."""

    timer: str
    interrupting: bool
    before: datetime
    after: datetime


def boundary_timers(workflow: BpmnWorkflow, task_id: str) -> list[Task]:
    """The waiting timer events attached to a task (interrupting or not); those that fired are gone."""
    task = find_task(workflow, task_id)
    if task is None or task.parent is None:
        return []
    return [sibling for sibling in task.parent.children
            if isinstance(sibling.task_spec, BoundaryEvent) and sibling.state == TaskState.WAITING
            and isinstance(sibling.task_spec.event_definition, TimerEventDefinition)]


def timer_instant(timer: Task) -> datetime | None:
    """The instant a waiting timer fires at (its held instant while held); None until evaluated."""
    value = timer.internal_data.get(_HELD, timer._get_internal_data("event_value"))
    if isinstance(value, dict):  # cycle timers keep {"next": ...}
        value = value.get("next")
    if not isinstance(value, str):
        return None
    try:
        fire_at = TimerEventDefinition.parse_time_or_duration(value)
    except Exception:
        return None
    return fire_at.astimezone(UTC) if isinstance(fire_at, datetime) else None


def is_held(timer: Task) -> bool:
    return _HELD in timer.internal_data


def hold_timer(timer: Task, deadline: datetime | None, now: datetime) -> datetime | None:
    """Stop a waiting timer: park its instant and let it wait for ``NEVER``; answers the parked instant.
    ``deadline`` is the task's deadline: a timer at that instant stays in step with it on resumption.
    A timer already due at ``now`` is not held: its time ran out before the clock stopped, and it
    fires at the next sweep."""
    instant = timer_instant(timer)
    if instant is None or is_held(timer) or instant <= now:
        return None
    timer.internal_data[_HELD] = instant.isoformat()
    timer.internal_data[_IN_STEP] = deadline is not None and instant == deadline
    _set_timer_instant(timer, TimerEventDefinition.get_datetime(NEVER))
    return instant


def release_timer(timer: Task, move: Callable[[datetime, bool], datetime], span: tuple[datetime, datetime]
                  ) -> MovedTimer | None:
    """Restart a held timer at ``move(parked instant, in step with the deadline)`` and remember ``span``."""
    if not is_held(timer):
        return None
    before = TimerEventDefinition.get_datetime(timer.internal_data.pop(_HELD))
    in_step = bool(timer.internal_data.pop(_IN_STEP, False))
    after = move(before, in_step).astimezone(UTC)
    _set_timer_instant(timer, after)
    spans = list(timer.internal_data.get(_SPANS) or [])
    spans.append([span[0].isoformat(), span[1].isoformat()])
    timer.internal_data[_SPANS] = spans
    return MovedTimer(timer.task_spec.name, bool(getattr(timer.task_spec, "cancel_activity", True)), before, after)


def timer_spans(timer: Task) -> list[tuple[datetime, datetime]]:
    """The suspensions a timer has been moved by, oldest first."""
    return [(datetime.fromisoformat(a), datetime.fromisoformat(b)) for a, b in timer.internal_data.get(_SPANS) or []]


def attached_task_id(timer: Task) -> str | None:
    """The id of the task a boundary timer is attached to."""
    if timer.parent is None:
        return None
    main = next((t for t in timer.parent.children if not isinstance(t.task_spec, BoundaryEvent)), None)
    return str(main.id) if main is not None else None


def _set_timer_instant(timer: Task, instant: datetime) -> None:
    value = timer._get_internal_data("event_value")
    text = instant.astimezone(UTC).isoformat()
    if isinstance(value, dict):
        timer._set_internal_data(event_value={**value, "next": text})
    else:
        timer._set_internal_data(event_value=text)


def fire_timers(workflow: BpmnWorkflow) -> None:
    """Let every timer whose instant has passed (by the injected clock) fire, then advance."""
    workflow.refresh_timers()
    workflow.do_engine_steps()
