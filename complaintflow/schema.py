"""Every table of the product, imported in one place for Alembic and tests."""

from __future__ import annotations

import importlib

from engine.db.base import Base

TABLE_MODULES = ("engine.db.tables", "agencies.tables", "notifications.tables", "web.tables")


def load_metadata():  # type: ignore[no-untyped-def]
    for name in TABLE_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:  # a package whose tables are not written yet
            if exc.name != name:
                raise
    return Base.metadata
