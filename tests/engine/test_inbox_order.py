"""The inbox reads a page in index order: with a large backlog, sorting it would cost per request."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import insert, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session, sessionmaker

from engine.clock import SHANGHAI
from engine.db.tables import OpenTask
from engine.task_inbox import InboxQuery, inbox, inbox_page, inbox_statement
from tests.rows import placeholder_instance

NOW = datetime(2026, 12, 1, 9, tzinfo=SHANGHAI)


def _seed(session: Session, count: int) -> None:
    instance_id = placeholder_instance(session, NOW)
    session.execute(insert(OpenTask), [{
        "id": f"{i:08d}-0000-4000-8000-000000000000", "instance_id": instance_id, "complaint_id": None,
        "task_name": "review", "title": "受理审查", "process_id": "p", "lane": "liaison",
        "agency_code": f"agency-{i % 4}", "assignee": [None, "li", "wang"][i % 3], "deadline_rule": None,
        "due_at": None if i % 10 == 0 else NOW + timedelta(hours=i % 97), "provisional": False,
        "deadline_extended": False, "created_at": NOW - timedelta(minutes=i % 13)} for i in range(2000)][:count])
    session.commit()


QUERIES = [InboxQuery(agency_code="agency-1"), InboxQuery(agency_code="agency-1", username="li", assignee="me"),
           InboxQuery(agency_code="agency-1", assignee="unassigned")]


@pytest.mark.parametrize("query", QUERIES, ids=["all", "mine", "unassigned"])
def test_postgresql_reads_an_inbox_page_without_sorting(pg_session_factory: sessionmaker[Session],
                                                        query: InboxQuery) -> None:
    with pg_session_factory() as session:
        _seed(session, 2000)
        session.execute(text("ANALYZE open_tasks"))
        sql = str(inbox_statement(query, NOW).compile(dialect=postgresql.dialect(),
                                                      compile_kwargs={"literal_binds": True}))
        session.execute(text("SET LOCAL enable_sort = off"))  # a plan that must sort is then priced out
        plan = "\n".join(session.execute(text(f"EXPLAIN {sql}")).scalars())
    assert "Sort" not in plan, plan
    assert "open_tasks_agency" in plan, plan


def test_inbox_page_order_and_filters(session_factory: sessionmaker[Session]) -> None:
    """Due first, undated last, ties by age then id; "mine" and "unassigned" filter within the agency."""
    with session_factory() as session:
        _seed(session, 600)
        everything = [t for t in inbox(session, InboxQuery(agency_code="agency-1", limit=200), NOW)]
        mine = inbox(session, InboxQuery(agency_code="agency-1", username="li", assignee="me", limit=200), NOW)
        unassigned = inbox(session, InboxQuery(agency_code="agency-1", assignee="unassigned", limit=200), NOW)
    expected = sorted(everything, key=lambda t: (t.due_at is None, t.due_at or NOW, t.created_at, t.id))
    assert [t.id for t in everything] == [t.id for t in expected] and len(everything) == 150
    assert {t.assignee for t in mine} == {"li"} and len(mine) == 50
    assert {t.assignee for t in unassigned} == {None} and len(unassigned) == 50


@pytest.mark.parametrize(("limit", "offset", "page"), [(50, 0, 50), (200, 0, 150), (50, 140, 10), (50, 150, 0),
                                                       (50, 500, 0)])
def test_inbox_page_total_with_or_without_counting(session_factory: sessionmaker[Session], limit: int, offset: int,
                                                   page: int) -> None:
    """A short page tells the total itself; a full page or one past the end asks the database."""
    with session_factory() as session:
        _seed(session, 600)
        rows, total = inbox_page(session, InboxQuery(agency_code="agency-1", limit=limit, offset=offset), NOW)
    assert (len(rows), total) == (page, 150)
