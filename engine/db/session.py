"""Engine and session factories: the only place that knows backend quirks."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine with the settings each backend needs for safe concurrent use.

    SQLite: WAL, foreign keys on, a busy timeout so a second writer waits instead of failing, and
    ``BEGIN IMMEDIATE`` so a transaction takes the write lock up front (read-then-write races then
    serialise instead of deadlocking). PostgreSQL: READ COMMITTED plus explicit optimistic
    version checks in the unit of work.
    """
    # an error's message (hence a logged traceback) shows the SQL but not its values: they can be a
    # tracking code, a search term or personal data, none of which may reach a log
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # read-only sessions take no write lock: WAL lets them read while one writer writes
            conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get("readonly") else "BEGIN IMMEDIATE")

        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    # no pre-ping: it costs a round trip per checkout. A connection the server dropped fails its
    # request instead (rolled back; the API answers 503, retry) and SQLAlchemy then replaces every
    # pooled connection made before the failure.
    return create_engine(url, pool_recycle=3600, **kwargs)


def transaction_memo(session: Session, name: str) -> dict[Any, Any]:
    """A dict that lives as long as the session's current transaction, for lookups one transition
    repeats (an agency by code, the complaint). The identity map would not do: it holds an object only
    while something else references it, and it answers only primary-key ``get``s."""
    transaction = session.get_transaction() or session.begin()  # what the first query would begin
    memo: tuple[Any, dict[str, dict[Any, Any]]] | None = session.info.get("transaction_memo")
    if memo is None or memo[0] is not transaction:
        memo = (transaction, {})
        session.info["transaction_memo"] = memo
    return memo[1].setdefault(name, {})


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False, autoflush=False)


def make_read_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions for reading only (API GETs, the inbox): on SQLite they do not block writers.

    On PostgreSQL they run in autocommit: under READ COMMITTED each statement takes its own snapshot
    anyway, so a transaction around reads adds only the BEGIN and ROLLBACK round trips."""
    options: dict[str, Any] = {"readonly": True}
    if engine.dialect.name == "postgresql":
        options["isolation_level"] = "AUTOCOMMIT"
    return sessionmaker(engine.execution_options(**options), expire_on_commit=False, autoflush=False)
