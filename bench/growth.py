"""Growth benchmark: the same figures at 1×, 10× and 100× data, to show how cost grows with volume.

- inbox p50/p95/p99 with 10k, 100k and 1M open tasks (500 agencies);
- service-layer task completions/s with 0, 10k and 100k earlier instances (and their audit rows) in
  the database;
- one sweep over 1,000 due rungs among 10k, 100k and 1M pending.

Usage: python -m bench.growth [--backend sqlite|postgresql] [--max-factor 100]
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import timedelta
from typing import Any

from sqlalchemy import insert

from bench import inbox as inbox_bench
from bench import lifecycle
from bench import sweep as sweep_bench
from bench._db import scratch_database, seed_instances
from engine.db.session import make_session_factory
from engine.db.tables import AuditEvent
from engine.deadlines.ladder import sweep_steps


def background(engine: Any, instances: int) -> None:
    """Earlier, finished work: instances with a handful of audit rows each."""
    if not instances:
        return
    ids = seed_instances(engine, instances, inbox_bench.NOW)
    with engine.begin() as conn:
        for start in range(0, len(ids), 10_000):
            conn.execute(insert(AuditEvent), [
                {"at": inbox_bench.NOW - timedelta(days=30), "actor": "bench", "action": "task.completed",
                 "instance_id": i, "complaint_id": None, "case_id": None, "task_id": None, "agency_code": "th-amr",
                 "details": {}} for i in ids[start:start + 10_000] for _ in range(5)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", default="sqlite", choices=["sqlite", "postgresql"])
    parser.add_argument("--max-factor", type=int, default=100, choices=[1, 10, 100])
    args = parser.parse_args()
    factors = [f for f in (1, 10, 100) if f <= args.max_factor]
    summary: dict[str, Any] = {"backend": args.backend, "inbox": {}, "lifecycle": {}, "sweep": {}}
    for factor in factors:
        with scratch_database(args.backend) as (_url, engine):
            inbox_bench.seed_tasks(engine, 10_000 * factor, 500)
            summary["inbox"][10_000 * factor] = inbox_bench.measure(make_session_factory(engine), 500, 1000)
        with scratch_database(args.backend) as (_url, engine):
            background(engine, 1_000 * factor if factor > 1 else 0)
            figures = lifecycle.service_layer(engine, 100)
            summary["lifecycle"][1_000 * factor if factor > 1 else 0] = figures["completions_per_s"]
        with scratch_database(args.backend) as (_url, engine):
            sweep_bench.seed(engine, 10_000 * factor, 1_000)
            started = time.perf_counter()
            sweep_steps(make_session_factory(engine), sweep_bench.NoNotices(), sweep_bench.NOW)
            summary["sweep"][10_000 * factor] = time.perf_counter() - started
    print(f"growth on {args.backend}:")
    for tasks, f in summary["inbox"].items():
        print(f"  inbox with {tasks:>9,} open tasks: p50 {f['p50_ms']:.2f} ms, p95 {f['p95_ms']:.2f} ms, "
              f"p99 {f['p99_ms']:.2f} ms")
    for earlier, rate in summary["lifecycle"].items():
        print(f"  completions with {earlier:>7,} earlier instances: {rate:.0f}/s")
    for pending, seconds in summary["sweep"].items():
        print(f"  sweep of 1,000 due among {pending:>9,} pending: {seconds:.3f} s")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
