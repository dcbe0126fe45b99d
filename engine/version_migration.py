"""Move waiting instances to a newer version of their spec, only where it is safe.

SpiffWorkflow's ``diff_workflow`` aligns the tasks of a running instance with the new spec. The
product's rule for "safe": no task that has started (ready, waiting, running) or already ran has had
its step removed, and no started step changed. A removed completed step would also make the stored
history unreadable, so it refuses too. Each instance moves in its own transaction, audited.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from SpiffWorkflow.bpmn.util.diff import diff_workflow, migrate_workflow
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy.orm import Session

from engine.bpmn.loader import SpecBundle
from engine.db.tables import ProcessInstance, SpecVersion
from engine.errors import Conflict, NotFound
from engine.runner import Actor, Runner
from engine.serialization import SERIALIZER

STARTED = TaskState.READY | TaskState.WAITING | TaskState.STARTED


@dataclass
class MigrationPlan:
    instance_id: int
    from_version: int
    to_version: int
    safe: bool = True
    reasons: list[str] = field(default_factory=list)
    changed_steps: list[str] = field(default_factory=list)


def _target(session: Session, instance: ProcessInstance, target_version_id: int) -> SpecVersion:
    current = session.get(SpecVersion, instance.spec_version_id)
    target = session.get(SpecVersion, target_version_id)
    if target is None or current is None:
        raise NotFound("未找到流程版本 / spec version not found")
    if target.key != current.key:
        raise Conflict(f"流程实例 {instance.id} 运行的是流程 {current.key}，不是 {target.key} / "
                       f"instance {instance.id} runs {current.key!r}, not {target.key!r}")
    return target


def _diffs(workflow: BpmnWorkflow, bundle: SpecBundle) -> tuple[Any, dict[str, Any]]:
    """SpiffWorkflow's diffs of the top process and of each pool (its types are not annotated)."""
    diffs: tuple[Any, dict[str, Any]] = diff_workflow(SERIALIZER.registry, workflow, bundle.resumable_top_spec,
                                                      bundle.subprocess_specs)
    return diffs


def plan(session: Session, runner: Runner, instance_id: int, target_version_id: int) -> MigrationPlan:
    instance = session.get(ProcessInstance, instance_id)
    if instance is None:
        raise NotFound("未找到流程实例 / process instance not found")
    target = _target(session, instance, target_version_id)
    current = session.get(SpecVersion, instance.spec_version_id)
    assert current is not None
    result = MigrationPlan(instance_id, current.version, target.version)
    if instance.status != "running":
        result.safe = False
        result.reasons.append(f"实例已{instance.status} / the instance is {instance.status}")
        return result
    workflow = runner.load_workflow(session, instance_id)
    top_diff, sp_diffs = _diffs(workflow, runner.specs.get(session, target.id))
    for workflow_diff, label in [(top_diff, None), *((d, sid) for sid, d in sp_diffs.items())]:
        if workflow_diff is None:
            result.safe = False
            result.reasons.append(f"泳道流程 {label} 在新版本中已删除 / a pool this instance runs was removed")
            continue
        for task in workflow_diff.removed:
            if task.has_state(STARTED | TaskState.COMPLETED) and _is_step(task):
                result.safe = False
                result.reasons.append(f"步骤 {task.task_spec.name} 已删除 / step {task.task_spec.name} was removed "
                                      f"but this instance has reached it")
        for task in workflow_diff.changed:
            if not _is_step(task):
                continue
            result.changed_steps.append(task.task_spec.name)
            if task.has_state(STARTED):
                result.safe = False
                result.reasons.append(f"步骤 {task.task_spec.name} 已修改且正在办理 / step {task.task_spec.name} "
                                      f"changed while it is under way")
    return result


def _is_step(task: object) -> bool:
    """A modelled element (not one of SpiffWorkflow's internal joins and splits)."""
    spec = getattr(task, "task_spec", None)
    return getattr(spec, "bpmn_id", None) is not None


def apply(session: Session, runner: Runner, instance_id: int, target_version_id: int, actor: Actor) -> MigrationPlan:
    result = plan(session, runner, instance_id, target_version_id)
    if not result.safe:
        raise Conflict("; ".join(result.reasons))
    bundle = runner.specs.get(session, target_version_id)

    def move(workflow: BpmnWorkflow) -> None:
        top_diff, sp_diffs = _diffs(workflow, bundle)
        migrate_workflow(top_diff, workflow, bundle.resumable_top_spec)
        for sp_id, sp_diff in sp_diffs.items():
            subprocess = workflow.subprocesses[sp_id]
            migrate_workflow(sp_diff, subprocess, bundle.subprocess_specs[subprocess.spec.name])
        workflow.subprocess_specs = bundle.subprocess_specs
        workflow.do_engine_steps()

    runner.transition_to_version(session, instance_id, target_version_id, move, actor, {
        "from_version": result.from_version, "to_version": result.to_version,
        "changed_steps": result.changed_steps})
    return result
