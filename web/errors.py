"""Every error a client sees is JSON ``{"detail": …}`` with a 4xx naming the field, or a 500 with a request id.

    EngineError (engine/errors.py)      → NotFound 404 · Forbidden 403 · Conflict 409 · InvalidInput 422
                                          · InvalidWorkflow 400 (issues with element ids) · ScriptError 409
    RequestValidationError (FastAPI)   → 422 [{"field", "message"}]
    Unauthorized / ForbiddenError (web) → 401 / 403
    TooManyRequests                    → 429
    anything else                      → 500 {"detail": "internal error", "request_id"} (logged with its id)
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
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


class ForbiddenError(WebError):
    status = 403


class TooManyRequests(WebError):
    status = 429


class PayloadTooLarge(WebError):
    status = 413


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    return ".".join(parts) or "body"


def _json(status: int, detail: Any, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


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

    @app.exception_handler(DBAPIError)
    async def database_error(request: Request, exc: DBAPIError) -> JSONResponse:
        if exc.connection_invalidated:  # the server dropped the connection: nothing was stored
            return _json(503, "数据库连接中断，请重试 / database connection lost, please retry", {"Retry-After": "1"})
        return await unexpected(request, exc)

    @app.exception_handler(DataError)
    async def data_error(_request: Request, exc: DataError) -> JSONResponse:
        # a value the database cannot hold (e.g. a NUL character in text): the transaction rolled back
        return _json(422, [{"field": "body", "message": "无法保存的值 / a value the database cannot store"}])

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        request_id = getattr(request.state, "request_id", "-")
        log.exception("unexpected error, request_id=%s, route=%s", request_id, request.url.path)
        return JSONResponse({"detail": "internal error", "request_id": request_id}, status_code=500)
