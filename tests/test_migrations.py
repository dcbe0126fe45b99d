"""The migrations build exactly the schema the code declares, on both backends."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, func, insert, inspect, select

from complaintflow.schema import load_metadata
from engine.clock import SHANGHAI
from engine.db.migrate import upgrade
from engine.db.session import make_engine
from engine.db.tables import OpenTask
from tests.rows import placeholder_instance


def test_migrated_schema_matches_the_tables(db_engine: Engine) -> None:
    metadata = load_metadata()
    assert set(metadata.tables) <= set(inspect(db_engine).get_table_names())
    with db_engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), metadata)
    assert diff == []


def test_inbox_indexes_migration_keeps_the_task_index(empty_database_url: str) -> None:
    """0002 replaces the task index's indexes; on SQLite that copies the table, which must keep its rows."""
    upgrade(empty_database_url, "0001")
    now = datetime(2026, 12, 1, 9, tzinfo=SHANGHAI)
    engine = make_engine(empty_database_url)
    try:
        with engine.begin() as conn:
            instance_id = placeholder_instance(conn, now)
            conn.execute(insert(OpenTask).values(
                id="00000001-0000-4000-8000-000000000000", instance_id=instance_id, complaint_id=None,
                task_name="review", title="受理审查", process_id="p", lane="liaison", agency_code="a",
                assignee=None, deadline_rule=None, due_at=now, provisional=False, deadline_extended=False,
                created_at=now))
        upgrade(empty_database_url)
        with engine.connect() as conn:
            assert conn.scalar(select(func.count()).select_from(OpenTask)) == 1
            names = {index["name"] for index in inspect(conn).get_indexes("open_tasks")}
        assert {"ix_open_tasks_agency_order", "ix_open_tasks_agency_assignee_order"} <= names
        assert not names & {"ix_open_tasks_agency_due", "ix_open_tasks_assignee_due"}
    finally:
        engine.dispose()


def test_regenerate_refuses_once_a_later_migration_exists() -> None:
    """Rewriting 0001 under databases that already ran 0002 and 0003 would give them another schema."""
    from migrations import regenerate

    versions = Path(regenerate.MIGRATIONS_DIR) / "versions"
    before = {p.name: p.read_bytes() for p in versions.glob("*.py")}
    assert [p.name for p in regenerate.later_migrations(versions)][:2] == [
        "0002_inbox_order_indexes.py", "0003_hardening.py"]
    with pytest.raises(SystemExit) as refused:
        regenerate.main()
    assert refused.value.code != 0 and "0002_inbox_order_indexes.py" in str(refused.value.code)
    assert {p.name: p.read_bytes() for p in versions.glob("*.py")} == before
