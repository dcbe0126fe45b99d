"""Unit of work: one database transaction per use case; leaving the block without commit rolls back.

What a use case did outside the database (bytes a file store wrote) is undone by the hooks it registered
with ``on_rollback``: they run, with the session, after a transaction that did not commit."""

from __future__ import annotations

import logging
from collections.abc import Callable
from types import TracebackType

from sqlalchemy.orm import Session, sessionmaker

ROLLBACK_HOOKS = "complaintflow.rollback_hooks"
log = logging.getLogger(__name__)


def on_rollback(session: Session, hook: Callable[[Session], None]) -> None:
    """Run ``hook`` after this session's transaction if it rolls back (within a ``UnitOfWork``)."""
    session.info.setdefault(ROLLBACK_HOOKS, []).append(hook)


class UnitOfWork:
    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._session_factory = session_factory

    def __enter__(self) -> UnitOfWork:
        self.session = self._session_factory()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        # close() rolls back whatever was not committed and detaches objects without expiring them,
        # so values read inside the block stay readable after it
        hooks: list[Callable[[Session], None]] = self.session.info.pop(ROLLBACK_HOOKS, [])
        try:
            if hooks:
                self.session.rollback()
                for hook in hooks:
                    try:
                        hook(self.session)
                    except Exception:  # an undo that fails must not hide why the use case failed
                        log.exception("rollback hook failed")
        finally:
            self.session.close()

    def commit(self) -> None:
        self.session.commit()
        self.session.info.pop(ROLLBACK_HOOKS, None)
