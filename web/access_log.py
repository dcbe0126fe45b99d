"""The access log without query strings: they carry tracking codes (``?code=``), search terms (``q=``) and,
from careless clients, tokens and passwords — none of which may reach a log file.

uvicorn logs each request on the ``uvicorn.access`` logger as
``'%s - "%s %s HTTP/%s" %d' % (client, method, path_with_query, http_version, status)`` (and a
WebSocket handshake, with its path and query, on ``uvicorn.error``); the filter rewrites every argument
that is a path with a query to the path followed by ``?[redacted]``, so no query parameter of any name
(nor value) is written. The
application installs it when it starts (its lifespan), so ``complaintflow serve`` and any other way of
running it under uvicorn need no logging configuration of their own.
"""

from __future__ import annotations

import logging
from typing import TypeGuard

LOGGERS = ("uvicorn.access", "uvicorn.error")
REDACTED = "?[redacted]"  # shows that there was a query, not what it held


def without_query(path: str) -> str:
    head, separator, _query = path.partition("?")
    return head + REDACTED if separator else head


def _is_path_with_query(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and value.startswith("/") and "?" in value


class DropQueryStrings(logging.Filter):
    """Rewrites uvicorn's records so that a logged path has no query string."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and any(_is_path_with_query(arg) for arg in args):
            record.args = tuple(without_query(arg) if _is_path_with_query(arg) else arg for arg in args)
        return True


def install_access_log_filter() -> None:
    """Put the filter on uvicorn's loggers, once per process however many applications start."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, DropQueryStrings) for existing in logger.filters):
            logger.addFilter(DropQueryStrings())
