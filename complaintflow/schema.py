"""Every table of the product, imported in one place for Alembic and tests."""

from __future__ import annotations

import importlib

from sqlalchemy import MetaData

from engine.db.base import Base

TABLE_MODULES = ("engine.db.tables", "agencies.tables", "notifications.tables", "complaintflow.tables")


def load_metadata() -> MetaData:
    for name in TABLE_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:  # a package whose tables are not written yet
            if exc.name != name:
                raise
    return Base.metadata
