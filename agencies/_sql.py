"""Dialect helpers: the upsert statements both supported backends share."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def dialect_insert(session: Session, table: Any) -> Any:
    """An ``INSERT`` with ``on_conflict_do_update/do_nothing`` for the session's backend.

    PostgreSQL and SQLite (3.24+, RETURNING from 3.35) spell ``ON CONFLICT`` the same way, so
    one statement serves both; other backends are refused loudly rather than emulated racily.
    """
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"upsert is not implemented for the {name!r} backend")
