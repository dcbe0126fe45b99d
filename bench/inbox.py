"""Inbox benchmark: 100,000 open tasks across 500 agencies; latency of one liaison's inbox query.

Usage: python -m bench.inbox [--tasks N] [--agencies N] [--queries N] [--backend sqlite|postgresql|both]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert
from tqdm import tqdm

from bench._db import scratch_database, seed_instances
from engine.clock import SHANGHAI
from engine.db.session import make_session_factory
from engine.db.tables import OpenTask
from engine.inbox import InboxQuery, inbox

NOW = datetime(2026, 11, 22, 10, tzinfo=SHANGHAI)
CHUNK = 5000


def seed_tasks(engine: Any, tasks: int, agencies: int) -> None:
    instances = seed_instances(engine, max(1, tasks // 5), NOW)
    rng = random.Random(7)
    with engine.begin() as conn, tqdm(total=tasks, desc="seeding open tasks", unit="task") as bar:
        for start in range(0, tasks, CHUNK):
            rows = []
            for i in range(start, min(start + CHUNK, tasks)):
                due = NOW + timedelta(hours=rng.randint(-240, 2000)) if rng.random() < 0.9 else None
                rows.append({
                    "id": f"{i:08d}-0000-4000-8000-000000000000", "instance_id": instances[i % len(instances)],
                    "complaint_id": i // 5, "task_name": "review", "title": "受理审查",
                    "process_id": "market_regulator",
                    "lane": "liaison", "agency_code": f"agency-{i % agencies:03d}",
                    "assignee": f"user-{i % 7}" if rng.random() < 0.3 else None, "deadline_rule": "acceptance",
                    "due_at": due, "provisional": False, "deadline_extended": False, "created_at": NOW,
                })
            conn.execute(insert(OpenTask), rows)
            bar.update(len(rows))


def measure(session_factory: Any, agencies: int, queries: int) -> dict[str, float]:
    rng = random.Random(11)
    timings = []
    for _ in range(queries):
        query = InboxQuery(agency_code=f"agency-{rng.randrange(agencies):03d}", username="user-1",
                           assignee=rng.choice([None, None, "me", "unassigned"]), limit=50)
        started = time.perf_counter()
        with session_factory() as session:
            rows = inbox(session, query, NOW)
        timings.append((time.perf_counter() - started) * 1000)
        assert len(rows) <= 50
    timings.sort()
    return {"p50_ms": statistics.median(timings), "p95_ms": timings[int(len(timings) * 0.95)],
            "p99_ms": timings[int(len(timings) * 0.99)]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--agencies", type=int, default=500)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--backend", default="both", choices=["sqlite", "postgresql", "both"])
    args = parser.parse_args()
    summary: dict[str, Any] = {"tasks": args.tasks, "agencies": args.agencies, "queries": args.queries}
    for backend in ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]:
        with scratch_database(backend) as (_url, engine):
            seed_tasks(engine, args.tasks, args.agencies)
            if backend == "postgresql":
                with engine.begin() as conn:
                    conn.exec_driver_sql("ANALYZE")
            summary[backend] = measure(make_session_factory(engine), args.agencies, args.queries)
        figures = summary[backend]
        print(f"inbox query, {backend:10} {args.tasks} open tasks / {args.agencies} agencies: "
              f"p50 {figures['p50_ms']:.2f} ms, p95 {figures['p95_ms']:.2f} ms, p99 {figures['p99_ms']:.2f} ms")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
