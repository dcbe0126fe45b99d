"""Lifecycle benchmark: the same 8-step BPMN (start → 7 user tasks → end), three ways, one process.

1. bare SpiffWorkflow in memory (the engine alone);
2. bare SpiffWorkflow with a full JSON save and load at every user task (the practical limit of a
   persisted engine: ≈ 1,130 completions/s on the machine the targets were set on);
3. complaintflow's service layer: one unit of work per completion — load, check, run, index, audit,
   save with the version check, commit — on SQLite and on PostgreSQL, counting SQL statements and
   commits per completion.

Usage: python -m bench.lifecycle [--instances N] [--backend sqlite|postgresql|both] [--json FILE]
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import Engine, event, select

from agencies.roles import AgencyLanePolicy
from bench._db import scratch_database
from engine.bpmn.scaffold import UserTask, build
from engine.clock import SHANGHAI, FixedClock
from engine.db.session import make_session_factory
from engine.db.tables import OpenTask
from engine.deadlines.service import DeadlineService
from engine.runner import Actor, InstanceRecord, OpenedTask, Runner, TransitionContext
from engine.specs import SpecCache, deploy, upload
from engine.uow import UnitOfWork

STEPS = 7
FORM = {"type": "object", "properties": {"note": {"type": "string"}}, "required": ["note"],
        "additionalProperties": False}
BPMN = build("eight_steps", [UserTask(f"step{i}", f"第{i}步", form=FORM) for i in range(1, STEPS + 1)],
             agency="'th-amr'")
ACTOR = Actor("th-amr.liaison", "th-amr", frozenset({"liaison"}))


class QuietHooks:
    """Product hooks that do nothing: this measures the engine's own path."""

    def script_services(self, ctx: TransitionContext, instance: InstanceRecord) -> Any:
        return None

    def after_transition(self, ctx: TransitionContext, instance: InstanceRecord, workflow: Any,
                         opened: list[OpenedTask]) -> None:
        return None

    def agency_kind(self, session: Any, agency_code: str | None) -> str | None:
        return None


def bare_spiff(instances: int, persist: bool) -> float:
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(BPMN.encode())
    spec = parser.get_spec("eight_steps")
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    started = time.perf_counter()
    for _ in range(instances):
        workflow = BpmnWorkflow(copy.copy(spec))
        workflow.do_engine_steps()
        for _step in range(STEPS):
            if persist:
                workflow = serializer.deserialize_json(serializer.serialize_json(workflow))
            task = workflow.get_next_task(state=TaskState.READY, manual=True)
            task.data.update({"note": "ok"})
            task.run()
            workflow.do_engine_steps()
        assert workflow.completed
    return instances * STEPS / (time.perf_counter() - started)


@contextmanager
def counting(engine: Engine) -> Iterator[dict[str, int]]:
    counts = {"statements": 0, "commits": 0}

    def on_statement(*_args: Any) -> None:
        counts["statements"] += 1

    def on_commit(*_args: Any) -> None:
        counts["commits"] += 1

    event.listen(engine, "before_cursor_execute", on_statement)
    event.listen(engine, "commit", on_commit)
    try:
        yield counts
    finally:
        event.remove(engine, "before_cursor_execute", on_statement)
        event.remove(engine, "commit", on_commit)


def service_layer(engine: Engine, instances: int) -> dict[str, float]:
    session_factory = make_session_factory(engine)
    clock = FixedClock(datetime(2026, 11, 18, 10, tzinfo=SHANGHAI))
    deadlines = DeadlineService()
    runner = Runner(clock, SpecCache(), deadlines, QuietHooks(), AgencyLanePolicy())  # type: ignore[arg-type]
    with UnitOfWork(session_factory) as uow:
        version = upload(uow.session, BPMN, filename="eight.bpmn", actor="bench", now=clock.now(),
                         known_rules=deadlines.rule_names()).version
        deploy(uow.session, version.key, version.version, actor="bench", now=clock.now())
        uow.commit()
    task_ids: list[str] = []
    with UnitOfWork(session_factory) as uow:
        for _ in range(instances):
            _record, opened = runner.start(uow.session, version, {}, ACTOR)
            task_ids.append(opened[0].id)
        uow.commit()
    latencies: list[float] = []
    with counting(engine) as counts:
        started = time.perf_counter()
        for _step in range(STEPS):
            next_ids = []
            for task_id in task_ids:
                t0 = time.perf_counter()
                with UnitOfWork(session_factory) as uow:
                    result = runner.complete_task(uow.session, task_id, {"note": "ok"}, ACTOR)
                    uow.commit()
                latencies.append(time.perf_counter() - t0)
                if result.next_tasks:
                    next_ids.append(result.next_tasks[0].id)
            task_ids = next_ids
        elapsed = time.perf_counter() - started
    completions = instances * STEPS
    with UnitOfWork(session_factory) as uow:
        assert uow.session.scalar(select(OpenTask.id).limit(1)) is None, "every instance must finish"
    latencies.sort()
    return {
        "completions_per_s": completions / elapsed,
        "ms_per_completion_p50": statistics.median(latencies) * 1000,
        "ms_per_completion_p95": latencies[int(len(latencies) * 0.95)] * 1000,
        "statements_per_completion": counts["statements"] / completions,
        "commits_per_completion": counts["commits"] / completions,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instances", type=int, default=300)
    parser.add_argument("--backend", default="both", choices=["sqlite", "postgresql", "both"])
    parser.add_argument("--json", type=Path, help="also write the summary here")
    args = parser.parse_args()

    summary: dict[str, Any] = {"instances": args.instances, "completions": args.instances * STEPS}
    summary["spiff_in_memory_per_s"] = bare_spiff(args.instances, persist=False)
    summary["spiff_save_load_per_s"] = bare_spiff(args.instances, persist=True)
    for backend in ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]:
        with scratch_database(backend) as (_url, engine):
            summary[backend] = service_layer(engine, args.instances)
    limit = summary["spiff_save_load_per_s"]
    print(f"8-step BPMN, {args.instances} instances, {summary['completions']} task completions")
    print(f"  SpiffWorkflow in memory          {summary['spiff_in_memory_per_s']:9.0f} completions/s")
    print(f"  SpiffWorkflow + JSON save/load   {limit:9.0f} completions/s   (the practical limit)")
    for backend in ("sqlite", "postgresql"):
        if backend in summary:
            figures = summary[backend]
            figures["ratio_to_limit"] = limit / figures["completions_per_s"]
            print(f"  service layer, {backend:10}        {figures['completions_per_s']:9.0f} completions/s   "
                  f"{figures['ratio_to_limit']:.2f}x slower than the limit; p50 {figures['ms_per_completion_p50']:.2f}"
                  f" ms, p95 {figures['ms_per_completion_p95']:.2f} ms; "
                  f"{figures['statements_per_completion']:.1f} SQL statements and "
                  f"{figures['commits_per_completion']:.1f} commits per completion")
    print(json.dumps(summary, indent=2))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
