"""Sweep benchmark: 1,000,000 pending deadline rungs, 1,000 of them due; time one sweep, then two
concurrent sweeps (separate ``complaintflow sweep`` processes) on PostgreSQL, and check that every
due rung was handled exactly once.

Usage: python -m bench.sweep [--pending N] [--due N] [--backend sqlite|postgresql|both]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, update
from tqdm import tqdm

from bench._db import scratch_database, seed_instances
from engine.clock import SHANGHAI
from engine.db.session import make_session_factory
from engine.db.tables import AuditEvent, DeadlineStep, OpenTask
from engine.deadlines.ladder import sweep_steps

NOW = datetime(2026, 11, 30, 9, tzinfo=SHANGHAI)
CHUNK = 10_000


class NoNotices:
    def handle(self, session: Any, step: Any, task: Any, now: datetime) -> dict[str, object]:
        return {}


def seed(engine: Any, pending: int, due: int) -> None:
    [instance] = seed_instances(engine, 1, NOW)
    past, future = NOW - timedelta(days=1), NOW + timedelta(days=30)
    with engine.begin() as conn:
        conn.execute(insert(OpenTask), [
            {"id": f"due-{i:06d}", "instance_id": instance, "task_name": "review", "title": "受理审查",
             "process_id": "p", "lane": "liaison", "agency_code": "th-amr", "due_at": past, "provisional": False,
             "deadline_extended": False, "created_at": NOW} for i in range(due)])
        with tqdm(total=pending, desc="seeding deadline rungs", unit="row") as bar:
            for start in range(0, pending, CHUNK):
                rows = []
                for i in range(start, min(start + CHUNK, pending)):
                    is_due = i < due
                    rows.append({"task_id": f"due-{i:06d}" if is_due else f"later-{i:07d}", "instance_id": instance,
                                 "step": "overdue", "due_at": past if is_due else future,
                                 "fire_at": past + timedelta(seconds=1) if is_due else future + timedelta(seconds=1)})
                conn.execute(insert(DeadlineStep), rows)
                bar.update(len(rows))
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")


def handled_once(engine: Any, due: int) -> bool:
    with engine.connect() as conn:
        rows = conn.execute(select(AuditEvent.task_id, func.count()).where(AuditEvent.action == "deadline.overdue")
                            .group_by(AuditEvent.task_id)).all()
    return len(rows) == due and all(count == 1 for _task, count in rows)


def reset(engine: Any) -> None:
    with engine.begin() as conn:
        conn.execute(update(DeadlineStep).values(done_at=None).where(DeadlineStep.done_at.is_not(None)))
        conn.execute(AuditEvent.__table__.delete())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pending", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=1_000)
    parser.add_argument("--backend", default="both", choices=["sqlite", "postgresql", "both"])
    args = parser.parse_args()
    summary: dict[str, Any] = {"pending": args.pending, "due": args.due}
    for backend in ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]:
        with scratch_database(backend) as (url, engine):
            seed(engine, args.pending, args.due)
            started = time.perf_counter()
            report = sweep_steps(make_session_factory(engine), NoNotices(), NOW)
            seconds = time.perf_counter() - started
            figures: dict[str, Any] = {"one_sweep_s": seconds, "handled": report.handled,
                                       "exactly_once": handled_once(engine, args.due)}
            if backend == "postgresql":
                reset(engine)
                env = {**os.environ, "DATABASE_URL": url}
                started = time.perf_counter()
                workers = [subprocess.Popen([sys.executable, "-m", "complaintflow.cli", "sweep", "--at",
                                             NOW.isoformat()], env=env, stdout=subprocess.PIPE, text=True)
                           for _ in range(2)]
                outputs = [w.communicate(timeout=600)[0] for w in workers]
                figures["two_sweeps_s"] = time.perf_counter() - started
                figures["two_sweeps_exactly_once"] = handled_once(engine, args.due)
                figures["two_sweeps_output"] = [o.strip() for o in outputs]
            summary[backend] = figures
        print(f"sweep, {backend:10} {args.due} due among {args.pending} pending: one sweep {seconds:.3f} s, "
              f"each handled exactly once: {figures['exactly_once']}"
              + (f"; two concurrent sweep processes {figures['two_sweeps_s']:.2f} s (incl. start-up), exactly once: "
                 f"{figures['two_sweeps_exactly_once']}" if "two_sweeps_s" in figures else ""))
    print(json.dumps(summary, indent=2, default=str))


if __name__ == "__main__":
    main()
