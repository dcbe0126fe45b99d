"""Inbox benchmark: 100,000 open tasks across 500 agencies; latency of one liaison's inbox, twice:

- the inbox query alone (engine.task_inbox, one session per query);
- ``GET /api/v1/tasks`` against a real ``complaintflow serve`` on the same database: signed-in user
  check, the page and its total count, JSON — what a liaison's browser waits for.

Each draws an agency at random and a filter from the inbox's mix: all tasks (half), "assigned to me",
"unassigned".

Usage: python -m bench.inbox [--tasks N] [--agencies N] [--queries N] [--http-queries N]
                             [--backend sqlite|postgresql|both]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import statistics
import time
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import insert, select
from tqdm import tqdm

from agencies.passwords import hash_password
from agencies.tables import Agency, User
from bench._db import scratch_database, seed_instances
from bench._server import servers
from engine.clock import SHANGHAI
from engine.db.session import make_session_factory
from engine.db.tables import OpenTask
from engine.task_inbox import InboxQuery, inbox
from web.security import issue_token

NOW = datetime(2026, 11, 22, 10, tzinfo=SHANGHAI)
CHUNK = 5000
SECRET = "bench-inbox-" + "0123456789abcdef" * 3
FILTERS = (None, None, "me", "unassigned")


def agency_code(number: int) -> str:
    return f"agency-{number:03d}"


def liaison(code: str) -> str:
    """The liaison the benchmark signs in as for an agency; a seventh of its assigned tasks are theirs."""
    return f"{code}.user-1"


def seed_tasks(engine: Any, tasks: int, agencies: int) -> None:
    instances = seed_instances(engine, max(1, tasks // 5), NOW)
    rng = random.Random(7)
    with engine.begin() as conn, tqdm(total=tasks, desc="seeding open tasks", unit="task") as bar:
        for start in range(0, tasks, CHUNK):
            rows = []
            for i in range(start, min(start + CHUNK, tasks)):
                due = NOW + timedelta(hours=rng.randint(-240, 2000)) if rng.random() < 0.9 else None
                code = agency_code(i % agencies)
                rows.append({
                    "id": f"{i:08d}-0000-4000-8000-000000000000", "instance_id": instances[i % len(instances)],
                    "complaint_id": i // 5, "task_name": "review", "title": "受理审查",
                    "process_id": "market_regulator",
                    "lane": "liaison", "agency_code": code,
                    "assignee": f"{code}.user-{i % 7}" if rng.random() < 0.3 else None, "deadline_rule": "acceptance",
                    "due_at": due, "provisional": False, "deadline_extended": False, "created_at": NOW,
                })
            conn.execute(insert(OpenTask), rows)
            bar.update(len(rows))


def seed_liaisons(engine: Any, agencies: int) -> None:
    """The agencies and one liaison each, sharing one password hash (they are signed in by token)."""
    password_hash = hash_password(secrets.token_urlsafe(16))
    with engine.begin() as conn:
        conn.execute(insert(Agency), [
            {"code": agency_code(n), "name": f"测试市场监督管理局{n}", "short_name": f"测试局{n}",
             "kind": "market_regulator", "region_code": "341222", "parent_id": None, "active": True}
            for n in range(agencies)])
        ids = dict(conn.execute(select(Agency.code, Agency.id)).all())
        conn.execute(insert(User), [
            {"username": liaison(code), "display_name": "联络员", "password_hash": password_hash,
             "agency_id": agency_id, "roles": ["liaison"], "email": None, "active": True, "created_at": NOW}
            for code, agency_id in ids.items()])


def percentiles(timings: list[float]) -> dict[str, float]:
    timings.sort()
    return {"p50_ms": statistics.median(timings), "p95_ms": timings[int(len(timings) * 0.95)],
            "p99_ms": timings[int(len(timings) * 0.99)]}


def measure(session_factory: Any, agencies: int, queries: int) -> dict[str, float]:
    rng = random.Random(11)
    timings = []
    for _ in range(queries):
        code = agency_code(rng.randrange(agencies))
        query = InboxQuery(agency_code=code, username=liaison(code), assignee=rng.choice(FILTERS), limit=50)
        started = time.perf_counter()
        with session_factory() as session:
            rows = inbox(session, query, NOW)
        timings.append((time.perf_counter() - started) * 1000)
        assert len(rows) <= 50
    return percentiles(timings)


def measure_http(url: str, agencies: int, queries: int) -> dict[str, float]:
    """``GET /api/v1/tasks`` one request at a time, as liaisons of random agencies."""
    rng = random.Random(13)
    now = datetime.now(SHANGHAI)
    tokens = {code: issue_token(liaison(code), 0, SECRET, now)[0] for code in map(agency_code, range(agencies))}
    timings = []
    with httpx.Client(base_url=url, timeout=30) as client:
        for _ in range(queries):
            code = agency_code(rng.randrange(agencies))
            assignee = rng.choice(FILTERS)
            started = time.perf_counter()
            response = client.get("/api/v1/tasks", params={"limit": 50, **({"assignee": assignee} if assignee else {})},
                                  headers={"Authorization": f"Bearer {tokens[code]}"})
            timings.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
            assert len(response.json()["items"]) <= 50
    return percentiles(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--agencies", type=int, default=500)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--http-queries", type=int, default=500)
    parser.add_argument("--backend", default="both", choices=["sqlite", "postgresql", "both"])
    args = parser.parse_args()
    summary: dict[str, Any] = {"tasks": args.tasks, "agencies": args.agencies, "queries": args.queries,
                               "http_queries": args.http_queries}
    for backend in ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]:
        with scratch_database(backend) as (url, engine):
            seed_tasks(engine, args.tasks, args.agencies)
            seed_liaisons(engine, args.agencies)
            if backend == "postgresql":
                with engine.begin() as conn:
                    conn.exec_driver_sql("ANALYZE")
            query = measure(make_session_factory(engine), args.agencies, args.queries)
            env = {**os.environ, "DATABASE_URL": url, "COMPLAINTFLOW_SECRET_KEY": SECRET}
            with servers(env) as (urls, _processes):
                http = measure_http(urls[0], args.agencies, args.http_queries)
        summary[backend] = {"query": query, "http": http}
        for name, figures in (("inbox query", query), ("GET /api/v1/tasks", http)):
            print(f"{name:18} {backend:10} {args.tasks} open tasks / {args.agencies} agencies: "
                  f"p50 {figures['p50_ms']:.2f} ms, p95 {figures['p95_ms']:.2f} ms, p99 {figures['p99_ms']:.2f} ms")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
