"""Alembic environment: the URL comes from the caller's config or from settings."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import DateTime

from complaintflow.schema import load_metadata
from engine.db.base import AwareDateTime
from engine.db.session import make_engine

config = context.config
target_metadata = load_metadata()


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from complaintflow.settings import get_settings

    return get_settings().database_url


def _render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Write the aware-datetime decorator as a plain timestamptz column in migrations."""
    if type_ == "type" and isinstance(obj, AwareDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True,
                      render_item=_render_item)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_url())
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection: Any) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_item=_render_item,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=lambda *_: False if isinstance(_[2], DateTime) else None,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
