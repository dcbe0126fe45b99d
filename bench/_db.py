"""Scratch databases for benchmarks: a temporary SQLite file, or a PostgreSQL database made and dropped."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, create_engine, insert, text

from engine.db.migrate import upgrade
from engine.db.session import make_engine
from engine.db.tables import ProcessInstance, SpecVersion

DEFAULT_PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@contextmanager
def scratch_database(backend: str, pg_admin_url: str = DEFAULT_PG_ADMIN) -> Iterator[tuple[str, Engine]]:
    """A migrated, empty database of ``backend`` ('sqlite' or 'postgresql'), removed afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{Path(tmp) / 'bench.db'}"
            upgrade(url)
            engine = make_engine(url)
            yield url, engine
            engine.dispose()
        return
    name = f"cf_bench_{int(time.time() * 1000)}"
    admin = create_engine(pg_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = pg_admin_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        upgrade(url)
        engine = make_engine(url)
        yield url, engine
        engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def seed_instances(engine: Engine, count: int, now: datetime) -> list[int]:
    """Placeholder instances for index rows to point at (the benchmarks never load their state)."""
    with engine.begin() as conn:
        version_id = conn.execute(insert(SpecVersion).values(
            key="bench", version=1, filename="bench.bpmn", bpmn_xml="", sha256="0" * 64, spec_json="{}",
            top_spec="bench", start_messages=[], meta={}, uploaded_at=now).returning(SpecVersion.id)).scalar_one()
        conn.execute(insert(ProcessInstance), [
            {"spec_version_id": version_id, "status": "running", "state": "", "version": 1, "created_at": now,
             "updated_at": now} for _ in range(count)])
        return list(conn.execute(text("SELECT id FROM process_instances ORDER BY id")).scalars())
