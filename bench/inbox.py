"""Inbox benchmark: 100,000 open tasks across 500 agencies; latency of one liaison's inbox, three ways:

- the inbox query alone (engine.task_inbox, one session per query);
- ``GET /api/v1/tasks`` against a real ``complaintflow serve`` on the same database: signed-in user
  check, the page and its total count, JSON — what an integrator waits for;
- ``GET /tasks``, the inbox page, on the same server with a session cookie: the same plus the
  complaints' subjects, the assignees' names, the unread-notice count and the rendered HTML — what a
  liaison's browser waits for. Its p95 is printed as a ratio to the page's limit (100 ms) and to the
  same run's API p95, and the page's first-load weight (HTML + the scripts and styles it links) is
  printed in bytes.

Each draws an agency at random and a filter from the inbox's mix: all tasks (half), "assigned to me",
"unassigned". The seeded tasks have no complaint rows: the page's lookup of them by primary key costs
the same, it only shows no subject.

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
import lxml.html
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
from web.pages.sessions import SESSION_COOKIE, issue_session
from web.security import issue_token

NOW = datetime(2026, 11, 22, 10, tzinfo=SHANGHAI)
CHUNK = 5000
SECRET = "bench-inbox-" + "0123456789abcdef" * 3
FILTERS = (None, None, "me", "unassigned")
PAGE_FILTERS = {None: None, "me": "mine", "unassigned": "unassigned"}  # the API's assignee → the page's filter
PAGE_LIMIT_MS = 100  # the inbox page's p95 target at 100,000 open tasks


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


def measure_page(url: str, session_factory: Any, agencies: int, queries: int) -> dict[str, float]:
    """``GET /tasks`` one request at a time, each liaison with a signed session cookie."""
    rng = random.Random(13)
    now = datetime.now(SHANGHAI)
    with session_factory() as session:
        ids = {row.username: row.id for row in session.execute(select(User.username, User.id))}
    cookies = {code: issue_session(ids[liaison(code)], liaison(code), 0, SECRET, now)[0]
               for code in map(agency_code, range(agencies))}
    timings = []
    with httpx.Client(base_url=url, timeout=30) as client:
        for _ in range(queries):
            code = agency_code(rng.randrange(agencies))
            page_filter = PAGE_FILTERS[rng.choice(FILTERS)]
            started = time.perf_counter()
            response = client.get("/tasks", params={"filter": page_filter} if page_filter else None,
                                  cookies={SESSION_COOKIE: cookies[code]})
            timings.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
            assert response.text.count('<td class="title">') <= 50 and "待办任务" in response.text
    return percentiles(timings)


def first_load_bytes(url: str, cookie: str) -> dict[str, int]:
    """What a browser downloads the first time it opens the inbox: the HTML and every script and
    stylesheet it links (uncompressed: the server sends them as they are)."""
    with httpx.Client(base_url=url, timeout=30, cookies={SESSION_COOKIE: cookie}) as client:
        html = client.get("/tasks")
        html.raise_for_status()
        tree = lxml.html.fromstring(html.text)
        assets = tree.xpath("//script/@src") + tree.xpath('//link[@rel="stylesheet"]/@href')
        sizes = {"html": len(html.content)}
        for asset in assets:
            response = client.get(asset)
            response.raise_for_status()
            sizes[asset] = len(response.content)
    return {**sizes, "total": sum(sizes.values())}


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
            sessions = make_session_factory(engine)
            with servers(env) as (urls, _processes):
                http = measure_http(urls[0], args.agencies, args.http_queries)
                page = measure_page(urls[0], sessions, args.agencies, args.http_queries)
                with sessions() as session:
                    user_id = session.scalar(select(User.id).where(User.username == liaison(agency_code(0))))
                weight = first_load_bytes(urls[0], issue_session(user_id or 0, liaison(agency_code(0)), 0, SECRET,
                                                                 datetime.now(SHANGHAI))[0])
        page["ratio_to_limit"] = page["p95_ms"] / PAGE_LIMIT_MS
        page["ratio_to_api"] = page["p95_ms"] / http["p95_ms"]
        summary[backend] = {"query": query, "http": http, "page": page, "page_first_load_bytes": weight}
        for name, figures in (("inbox query", query), ("GET /api/v1/tasks", http), ("GET /tasks (page)", page)):
            print(f"{name:18} {backend:10} {args.tasks} open tasks / {args.agencies} agencies: "
                  f"p50 {figures['p50_ms']:.2f} ms, p95 {figures['p95_ms']:.2f} ms, p99 {figures['p99_ms']:.2f} ms")
        print(f"{'':18} {backend:10} page p95 = {page['ratio_to_limit']:.2f}× its {PAGE_LIMIT_MS} ms limit, "
              f"{page['ratio_to_api']:.2f}× the API's p95; first load {weight['total'] / 1024:.1f} KiB "
              f"(HTML {weight['html'] / 1024:.1f} KiB)")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
