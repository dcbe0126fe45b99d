"""The migrations build exactly the schema the code declares, on both backends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from complaintflow.schema import load_metadata


def test_migrated_schema_matches_the_tables(db_engine: Engine) -> None:
    metadata = load_metadata()
    assert set(metadata.tables) <= set(inspect(db_engine).get_table_names())
    with db_engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), metadata)
    assert diff == []
