"""Every error a client sees is JSON ``{"detail": …}`` with a 4xx naming the field, a 503 when the database
is unavailable, or a 500 with a request id.

    EngineError (engine/errors.py)      → NotFound 404 · Forbidden 403 · Conflict 409 · InvalidInput 422
                                          · InvalidWorkflow 400 (issues with element ids) · ScriptError 409
    RequestValidationError (FastAPI)   → 422 [{"field", "message"}]
    Unauthorized (web)                 → 401
    TooManyRequests                    → 429
    IntegrityError / DataError (SQL)   → 409 / 422 (nothing was stored)
    database unavailable               → 503 + Retry-After (not acknowledged; logged as one line, no trace):
        OperationalError, InterfaceError (refused or failed connection, server shutting down, SQLite
        "database is locked" — not SQLite's SQL mistakes, see ``is_outage``), a connection the server
        dropped (``connection_invalidated``), and SQLAlchemy's pool TimeoutError (every connection busy)
    anything else                      → 500 {"detail", "request_id"}, logged once with its traceback and
                                          id by ``web.middleware.RequestContext`` (see ``internal_error``)

No handler is registered for ``Exception`` itself: Starlette calls such a handler from its outermost
middleware and then re-raises, so uvicorn logged every traceback a second time.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from engine.errors import Conflict, EngineError, Forbidden, InvalidInput, InvalidWorkflow, NotFound, ScriptError

log = logging.getLogger("complaintflow.web")


class WebError(Exception):
    status = 400

    def __init__(self, detail: Any) -> None:
        super().__init__(str(detail))
        self.detail = detail


class Unauthorized(WebError):
    status = 401


class TooManyRequests(WebError):
    status = 429


class PayloadTooLarge(WebError):
    status = 413


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    return ".".join(parts) or "body"


def _json(status: int, detail: Any, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


DATABASE_UNAVAILABLE = "数据库暂时不可用，请稍后重试 / database unavailable, please retry"
RETRY_AFTER = "1"  # seconds: a dropped connection is replaced at once; a restarting server takes a few tries


def request_id_of(request: Request) -> str:
    return str(getattr(request.state, "request_id", "-"))


def internal_error(request_id: str, method: str, path: str, exc: BaseException) -> dict[str, str]:
    """Log an unexpected exception once, with its traceback and request id, and return the answer's body.

    Only the path is logged, never the query string (it may hold a tracking code or a search term)."""
    log.error("unexpected error, request_id=%s, route=%s %s", request_id, method, path, exc_info=exc)
    return {"detail": "服务器内部错误 / internal error", "request_id": request_id}


# SQLite reports its own outages as OperationalError, but also mistakes in the SQL ("no such column"):
# only these messages mean the database could not be used, the rest are bugs (500, with a traceback)
SQLITE_OUTAGES = ("database is locked", "database table is locked", "unable to open database", "disk i/o error",
                  "database or disk is full")


def is_outage(exc: Exception) -> bool:
    orig = getattr(exc, "orig", None)
    if isinstance(orig, sqlite3.Error):
        return any(marker in str(orig).lower() for marker in SQLITE_OUTAGES)
    return True


def database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """503 with ``Retry-After`` for a database that cannot be reached: one log line (the driver's reason, no
    SQL, no parameters), since an outage would otherwise fill the log with identical tracebacks."""
    orig = getattr(exc, "orig", None) or exc
    reason = (str(orig).strip().splitlines() or [""])[0][:200]
    log.warning("database unavailable, request_id=%s, route=%s %s: %s: %s", request_id_of(request),
                request.method, request.url.path, type(orig).__name__, reason)
    return _json(503, DATABASE_UNAVAILABLE, {"Retry-After": RETRY_AFTER})


def install(app: FastAPI) -> None:
    @app.exception_handler(WebError)
    async def web_error(_request: Request, exc: WebError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return _json(exc.status, exc.detail, headers)

    @app.exception_handler(EngineError)
    async def engine_error(_request: Request, exc: EngineError) -> JSONResponse:
        if isinstance(exc, NotFound):
            return _json(404, "未找到 / not found")
        if isinstance(exc, Forbidden):
            return _json(403, str(exc))
        if isinstance(exc, InvalidInput):
            return _json(422, [e.as_dict() for e in exc.errors])
        if isinstance(exc, InvalidWorkflow):
            return _json(400, [i.as_dict() for i in exc.issues])
        if isinstance(exc, Conflict | ScriptError):
            return _json(409, str(exc))
        return _json(400, str(exc))

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        for error in exc.errors():
            message, field = error.get("msg", "invalid"), _field(tuple(error.get("loc", ())))
            if error.get("type") == "json_invalid":
                message = f"JSON 格式错误 / malformed JSON: {error.get('ctx', {}).get('error', message)}"
                field = "body"
            errors.append({"field": field, "message": message})
        return _json(422, errors)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _json(exc.status_code, exc.detail)

    @app.exception_handler(IntegrityError)
    async def integrity_error(_request: Request, exc: IntegrityError) -> JSONResponse:
        # a concurrent insert of the same key, or a constraint the validation missed: nothing was stored
        return _json(409, "与已有数据冲突 / conflicts with existing data")

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    @app.exception_handler(PoolTimeout)
    async def database_down(request: Request, exc: Exception) -> JSONResponse:
        # a refused or lost connection, a server shutting down, SQLite's "database is locked", every
        # pooled connection busy: nothing was acknowledged, the client may retry
        if is_outage(exc):
            return database_unavailable(request, exc)
        body = internal_error(request_id_of(request), request.method, request.url.path, exc)
        return JSONResponse(body, status_code=500)

    @app.exception_handler(DBAPIError)
    async def database_error(request: Request, exc: DBAPIError) -> JSONResponse:
        if exc.connection_invalidated:  # the server dropped the connection: nothing was acknowledged
            return database_unavailable(request, exc)
        body = internal_error(request_id_of(request), request.method, request.url.path, exc)
        return JSONResponse(body, status_code=500)

    @app.exception_handler(DataError)
    async def data_error(_request: Request, exc: DataError) -> JSONResponse:
        # a value the database cannot hold (e.g. a NUL character in text): the transaction rolled back
        return _json(422, [{"field": "body", "message": "无法保存的值 / a value the database cannot store"}])
