"""Shared fixtures: real databases (a SQLite file and the local PostgreSQL server), migrated once.

Every test that takes ``database_url`` runs on both backends. Isolation: SQLite tests get a copy
of a migrated template file; PostgreSQL tests share one migrated database per run, truncated
before each test.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from agencies import passwords
from complaintflow.schema import load_metadata
from engine.db.migrate import upgrade
from engine.db.session import make_engine, make_session_factory
from tests.workflows.scenario import Scenario

PG_ADMIN_URL = os.environ.get("COMPLAINTFLOW_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
# Argon2 with production parameters costs ~0.2 s per hash; seeding 14 demo users per test would
# dominate the run. Tests use Argon2id with minimal cost — same code path, same hash format —
# except tests that ask for ``real_argon2``.
_CHEAP = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))


@pytest.fixture
def real_argon2() -> None:
    """Keep the production Argon2 parameters in this test."""


@pytest.fixture(autouse=True)
def fast_password_hashing(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if "real_argon2" not in request.fixturenames:
        monkeypatch.setattr(passwords, "_hasher", lambda: _CHEAP)


BACKENDS = [b for b in os.environ.get("COMPLAINTFLOW_TEST_BACKENDS", "sqlite,postgresql").split(",") if b]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    name = f"cf_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    # pinged: tests/test_fault_injection.py restarts the server, which drops the connection kept in the pool
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    upgrade(url)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate_all(url: str) -> None:
    tables = ", ".join(f'"{t.name}"' for t in load_metadata().sorted_tables)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database of each backend."""
    if request.param == "sqlite":
        target = tmp_path / "complaintflow.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), target)
        return f"sqlite:///{target}"
    url: str = request.getfixturevalue("postgres_database")
    _truncate_all(url)
    return url


@pytest.fixture(params=BACKENDS)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of each backend with no schema at all, to migrate step by step."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'steps.db'}"
        return
    name = f"cf_steps_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def db_engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session_factory(db_engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(db_engine)



@pytest.fixture
def pg_session_factory(request: pytest.FixtureRequest) -> Iterator[sessionmaker[Session]]:
    """PostgreSQL only, for behaviour that needs truly concurrent transactions (row locks, SKIP LOCKED)."""
    url: str = request.getfixturevalue("postgres_database")
    _truncate_all(url)
    engine = make_engine(url)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def sqlite_session_factory(sqlite_template: Path, tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    """SQLite only, for what only SQLite shows (its query plans)."""
    target = tmp_path / "sqlite-only.db"
    shutil.copy(sqlite_template, target)
    engine = make_engine(f"sqlite:///{target}")
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def s(database_url: str) -> Iterator[Scenario]:
    """The product over a seeded database (demo agencies, reference workflows) of each backend."""
    scenario = Scenario(database_url).seed()
    yield scenario
    scenario.close()
