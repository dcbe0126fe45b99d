"""Dialect helpers: ``INSERT … ON CONFLICT`` and ``SELECT … FOR UPDATE SKIP LOCKED`` on both backends."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def dialect_insert(session: Session, table: Any) -> Any:
    """An ``INSERT`` offering ``on_conflict_do_nothing/do_update`` for the session's backend.

    PostgreSQL and SQLite (3.24+, RETURNING from 3.35) spell ``ON CONFLICT`` the same way; other
    backends are refused loudly rather than emulated with a racy select-then-insert."""
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"insert-or-ignore is not implemented for the {name!r} backend")


def skip_locked(session: Session, query: Select[Any]) -> Select[Any]:
    """Lock the selected rows, passing over rows other transactions hold (PostgreSQL).

    SQLite has no row locks: its transactions take the database write lock up front
    (``BEGIN IMMEDIATE``, see ``engine.db.session``), so the query stays as it is."""
    if session.get_bind().dialect.name == "postgresql":
        return query.with_for_update(skip_locked=True)
    return query
