"""The inbox lists only the lanes its reader may work, as the product's lane policy says, and still reads
its page in index order."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import insert, text
from sqlalchemy.orm import Session, sessionmaker

from engine.actors import Actor
from engine.clock import SHANGHAI
from engine.db.tables import OpenTask
from engine.task_inbox import (
    InboxQuery,
    count_statement,
    inbox,
    inbox_page,
    inbox_statement,
    workable_lanes,
)
from tests.rows import placeholder_instance

NOW = datetime(2026, 12, 1, 9, tzinfo=SHANGHAI)
LANES = ["liaison", "liaison", "liaison", "enforcement", "supervisor", None]  # every sixth task outside a lane


class RolesAreLanes:
    """A stand-in for the product's policy: a lane is worked by holders of the role of its name; a
    "chief" acts for colleagues."""

    def may_work(self, actor: Actor, lane: str | None) -> bool:
        return lane is not None and lane in actor.roles

    def acts_for_others(self, actor: Actor) -> bool:
        return "chief" in actor.roles


def _seed(session: Session, count: int = 600) -> None:
    instance_id = placeholder_instance(session, NOW)
    session.execute(insert(OpenTask), [{
        "id": f"{i:08d}-0000-4000-8000-000000000000", "instance_id": instance_id, "complaint_id": None,
        "task_name": f"task-{i % 6}", "title": "任务", "process_id": "p", "lane": LANES[i % 6],
        "agency_code": f"agency-{i // 6 % 2}", "assignee": [None, "li"][i % 7 == 0], "deadline_rule": None,
        "due_at": None if i % 10 == 0 else NOW + timedelta(hours=i % 97 - 20), "provisional": False,
        "deadline_extended": False, "created_at": NOW - timedelta(minutes=i % 13)} for i in range(count)])
    session.commit()


def test_workable_lanes_follow_the_policy() -> None:
    policy = RolesAreLanes()
    assert workable_lanes(policy, Actor("li", "agency-1", frozenset({"liaison"}))) == frozenset({"liaison"})
    assert workable_lanes(policy, Actor("li", "agency-1", frozenset({"liaison", "enforcement"}))) == frozenset({
        "liaison", "enforcement"})
    assert workable_lanes(policy, Actor("x", "agency-1", frozenset({"clerk"}))) == frozenset()  # no lane at all
    assert workable_lanes(policy, Actor("boss", "agency-1", frozenset({"chief"}))) is None  # sees everything


def test_the_inbox_lists_only_the_given_lanes_in_the_same_order(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as session:
        _seed(session)
        everything = inbox(session, InboxQuery(agency_code="agency-1", limit=500), NOW)
        liaison = inbox(session, InboxQuery(agency_code="agency-1", lanes=frozenset({"liaison"}), limit=500), NOW)
        two = inbox(session, InboxQuery(agency_code="agency-1", lanes=frozenset({"liaison", "enforcement"}),
                                        limit=500), NOW)
        nothing = inbox(session, InboxQuery(agency_code="agency-1", lanes=frozenset(), limit=500), NOW)
        overdue_mine = inbox(session, InboxQuery(agency_code="agency-1", username="li", assignee="me", overdue=True,
                                                 lanes=frozenset({"supervisor"}), limit=500), NOW)
    assert len(everything) == 300 and {t.lane for t in everything} == {"liaison", "enforcement", "supervisor", None}
    assert [t.id for t in liaison] == [t.id for t in everything if t.lane == "liaison"]  # same order, filtered
    assert [t.id for t in two] == [t.id for t in everything if t.lane in ("liaison", "enforcement")]
    assert nothing == []
    assert overdue_mine and [t.id for t in overdue_mine] == [
        t.id for t in everything if t.lane == "supervisor" and t.assignee == "li" and t.due_at and t.due_at < NOW]


@pytest.mark.parametrize(("limit", "offset"), [(50, 0), (200, 0), (50, 140)])
def test_the_total_counts_only_the_given_lanes(session_factory: sessionmaker[Session], limit: int,
                                               offset: int) -> None:
    with session_factory() as session:
        _seed(session)
        rows, total = inbox_page(session, InboxQuery(agency_code="agency-1", lanes=frozenset({"liaison"}),
                                                     limit=limit, offset=offset), NOW)
    assert total == 150 and len(rows) == min(limit, 150 - offset)
    assert {r.lane for r in rows} == {"liaison"}


@pytest.mark.parametrize("query", [
    InboxQuery(agency_code="agency-1", lanes=frozenset({"liaison"})),
    InboxQuery(agency_code="agency-1", lanes=frozenset({"liaison", "enforcement"})),
    InboxQuery(agency_code="agency-1", username="li", assignee="me", lanes=frozenset({"liaison"})),
    InboxQuery(agency_code="agency-1", assignee="unassigned", lanes=frozenset({"liaison", "enforcement"})),
], ids=["one-lane", "two-lanes", "mine", "unassigned"])
def test_postgresql_still_reads_a_lane_filtered_page_in_index_order(pg_session_factory: sessionmaker[Session],
                                                                    query: InboxQuery) -> None:
    """The lanes are a filter on rows read in the order of the agency's index, not a reason to sort."""
    with pg_session_factory() as session:
        _seed(session, 2000)
        session.execute(text("ANALYZE open_tasks"))
        sql = str(inbox_statement(query, NOW).compile(bind=session.get_bind(), compile_kwargs={"literal_binds": True}))
        session.execute(text("SET LOCAL enable_sort = off"))
        plan = "\n".join(session.execute(text(f"EXPLAIN {sql}")).scalars())
    assert "Sort" not in plan, plan
    assert "open_tasks_agency" in plan, plan


def test_sqlite_counts_a_lane_filtered_inbox_from_the_index_alone(
        sqlite_session_factory: sessionmaker[Session]) -> None:
    """The total of a reader's inbox reads index entries only: no row is fetched to learn its lane (SQLite's
    plan; PostgreSQL's index-only scans depend on its visibility map, so its plan is not a fixed fact)."""
    with sqlite_session_factory() as session:
        _seed(session)
        for query in (InboxQuery(agency_code="agency-1", lanes=frozenset({"liaison", "enforcement"})),
                      InboxQuery(agency_code="agency-1", username="li", assignee="me", lanes=frozenset({"liaison"}))):
            sql = str(count_statement(query, NOW).compile(bind=session.get_bind(),
                                                          compile_kwargs={"literal_binds": True}))
            plan = " ".join(str(row[-1]) for row in session.execute(text(f"EXPLAIN QUERY PLAN {sql}")))
            assert "COVERING INDEX ix_open_tasks_agency" in plan, plan
