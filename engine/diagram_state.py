"""Where one instance stands, element by element, for drawing it on its BPMN diagram.

A diagram shows the path taken (completed activities and events), where the instance waits now (open
user tasks, events waiting for a message or a timer), which open tasks have their clock stopped, and
when each running timer fires (e.g. the automatic end of mediation). The first two come from the
instance's SpiffWorkflow state, which is restored for this one read; the stopped clocks and the timers'
instants from the index tables (``open_tasks``, ``pending_timers``), which are what the inbox and the
sweep act on. Nothing here writes.

Ids are the BPMN element ids of the instance's spec version, so a viewer of that version's XML can mark
them. Pools (the collaboration's processes) are never listed: a pool is not a step.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.specs.base import TaskSpec
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.bpmn.loader import SpecBundle
from engine.db.tables import OpenTask, PendingTimer, ProcessInstance, SpecVersion
from engine.errors import NotFound
from engine.serialization import load_state
from engine.specs import SpecCache

# the deadline rule a timer expression counts by: due("mediation", accepted_at) → mediation
_DUE_RULE = re.compile(r"""\bdue\(\s*["']([A-Za-z0-9_]+)["']""")
_OPEN = TaskState.READY | TaskState.STARTED


@dataclass(frozen=True)
class RunningTimer:
    """A timer event the instance waits on, and when it fires."""

    element_id: str
    due_at: datetime
    rule: str | None  # the deadline rule its expression names (``due("mediation", …)``), if any
    name: str | None  # the event's name in the diagram (调解期限届满)


@dataclass(frozen=True)
class DiagramState:
    """An instance on its diagram; ``suspended`` are the open tasks among ``current`` whose clock is
    stopped (testing, appraisal). ``completed`` holds what ran and is not running again now."""

    instance_id: int
    spec_key: str
    spec_version: int
    bpmn_xml: str
    completed: tuple[str, ...]
    current: tuple[str, ...]
    suspended: tuple[str, ...]
    timers: tuple[RunningTimer, ...]


def element_states(workflow: BpmnWorkflow, pools: Collection[str]) -> tuple[list[str], list[str]]:
    """(completed, current) element ids of a workflow, in the order the engine met them.

    Current: user tasks (and embedded subprocesses) open now, and catch events — intermediate, boundary,
    receive — waiting for their message or timer. A join waiting for its other branches is not a step
    anyone waits on and is left out. An element passed once and open again (a review after a transfer)
    is current only."""
    completed: dict[str, None] = {}
    current: dict[str, None] = {}
    for flow in (workflow, *workflow.subprocesses.values()):
        for task in flow.tasks.values():
            element = task.task_spec.bpmn_id
            if element is None or element in pools:
                continue
            if task.state & _OPEN or (task.state == TaskState.WAITING and _catches(task.task_spec)):
                current[element] = None
            elif task.state == TaskState.COMPLETED:
                completed[element] = None
    return [element for element in completed if element not in current], list(current)


def _catches(spec: TaskSpec) -> bool:
    return getattr(spec, "event_definition", None) is not None


def timer_rule(spec: TaskSpec | None) -> str | None:
    """The deadline rule a timer event's expression names (``due("mediation", accepted_at)``), else None."""
    definition = getattr(spec, "event_definition", None)
    for sub in getattr(definition, "event_definitions", None) or [definition]:
        if isinstance(sub, TimerEventDefinition) and isinstance(sub.expression, str):
            found = _DUE_RULE.search(sub.expression)
            if found:
                return found.group(1)
    return None


def diagram_state(session: Session, specs: SpecCache, instance_id: int) -> DiagramState:
    """The instance's diagram (its spec version's XML) and where it stands; ``NotFound`` for no instance."""
    row = session.execute(
        select(ProcessInstance.spec_version_id, ProcessInstance.state, SpecVersion.key, SpecVersion.version,
               SpecVersion.bpmn_xml)
        .join(SpecVersion, SpecVersion.id == ProcessInstance.spec_version_id)
        .where(ProcessInstance.id == instance_id)).one_or_none()
    if row is None:
        raise NotFound("process instance not found")
    bundle = specs.get(session, row.spec_version_id)
    workflow = load_state(row.state, bundle.resumable_top_spec, bundle.subprocess_specs)
    completed, current = element_states(workflow, bundle.process_names.keys())
    suspended = session.scalars(select(OpenTask.task_name).where(
        OpenTask.instance_id == instance_id, OpenTask.suspended_at.is_not(None)).order_by(OpenTask.created_at))
    return DiagramState(instance_id=instance_id, spec_key=row.key, spec_version=row.version, bpmn_xml=row.bpmn_xml,
                        completed=tuple(completed), current=tuple(current),
                        suspended=tuple(dict.fromkeys(suspended)),
                        timers=tuple(_timers(session, bundle, instance_id)))


def running_timers(session: Session, specs: SpecCache, instance_id: int) -> list[RunningTimer]:
    """The instance's running timers, soonest first, without restoring its state (a page that shows the
    time limits in words reads only this)."""
    version_id = session.scalar(select(ProcessInstance.spec_version_id).where(ProcessInstance.id == instance_id))
    if version_id is None:
        raise NotFound("process instance not found")
    return _timers(session, specs.get(session, version_id), instance_id)


def _timers(session: Session, bundle: SpecBundle, instance_id: int) -> list[RunningTimer]:
    """From the timer index (what the sweep fires), each named by its event's definition in the spec."""
    rows = session.execute(select(PendingTimer.task_name, PendingTimer.fire_at)
                           .where(PendingTimer.instance_id == instance_id)
                           .order_by(PendingTimer.fire_at, PendingTimer.id))
    timers = []
    for row in rows:
        spec = next((found for process in bundle.all_specs()
                     if (found := process.task_specs.get(row.task_name)) is not None), None)
        timers.append(RunningTimer(row.task_name, row.fire_at, timer_rule(spec), getattr(spec, "bpmn_name", None)))
    return timers
