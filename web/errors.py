"""Every error a client sees is JSON ``{"detail": …}`` with a 4xx naming the field, a 503 when the database
is unavailable, or a 500 with a request id; a browser asking for a page (any path but the API's, see
``is_page_path``) gets the same status as a Chinese HTML page instead (``page_error``).

    EngineError (engine/errors.py)      → NotFound 404 · Forbidden 403 · Conflict 409 · InvalidInput 422
                                          · InvalidWorkflow 400 (issues with element ids) · ScriptError 409
    RequestValidationError (FastAPI)   → 422 [{"field", "message"}]: the field's path, and a message in
                                          Chinese naming it by its label (web/field_labels.py), then
                                          pydantic's English: 「理由不能为空 / Field required」
    HTTPException (Starlette)          → its status, Chinese first (unknown path 404, wrong method 405)
    Unauthorized (web)                 → 401 (a page: to the sign-in page)
    TooManyRequests                    → 429
    IntegrityError / DataError (SQL)   → 409 / 422 (nothing was stored)
    database unavailable               → 503 + Retry-After (not acknowledged; logged as one line, no trace):
        OperationalError, InterfaceError (refused or failed connection, server shutting down, SQLite
        "database is locked" — not SQLite's SQL mistakes, see ``is_outage``), a connection the server
        dropped (``connection_invalidated``), and SQLAlchemy's pool TimeoutError (every connection busy)
    anything else                      → 500 {"detail", "request_id"}, logged once with its traceback and
                                          id by ``web.middleware.RequestContext`` (see ``internal_error``)

Every message a person reads is Chinese, written ``中文 / English`` (a page shows the Chinese part).

No handler is registered for ``Exception`` itself: Starlette calls such a handler from its outermost
middleware and then re-raises, so uvicorn logged every traceback a second time.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import HTMLResponse, Response

from agencies.input_messages import chinese_message, has_chinese
from engine.errors import Conflict, EngineError, Forbidden, InvalidInput, InvalidWorkflow, NotFound, ScriptError
from web.field_labels import label

if TYPE_CHECKING:
    from web.pages.sessions import SignedIn

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


def _json(status: int, detail: Any, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


NOT_FOUND = "未找到 / not found"
INTERNAL_ERROR = "服务器内部错误 / internal error"
DATABASE_UNAVAILABLE = "数据库暂时不可用，请稍后重试 / database unavailable, please retry"
RETRY_AFTER = "1"  # seconds: a dropped connection is replaced at once; a restarting server takes a few tries

# Starlette's own errors (an unknown path, a method the path does not take …), Chinese first
HTTP_DETAILS = {400: "请求有误", 401: "未登录", 403: "无权访问", 404: "未找到", 405: "不支持该请求方法",
                406: "无法提供所要求的格式", 413: "请求体过大", 415: "不支持的内容类型",
                429: "请求过于频繁，请稍后再试", 500: "服务器内部错误", 503: "服务暂时不可用"}


def request_id_of(request: Request) -> str:
    return str(getattr(request.state, "request_id", "-"))


def internal_error(request_id: str, method: str, path: str, exc: BaseException) -> dict[str, str]:
    """Log an unexpected exception once, with its traceback and request id, and return the answer's body.

    Only the path is logged, never the query string (it may hold a tracking code or a search term)."""
    log.error("unexpected error, request_id=%s, route=%s %s", request_id, method, path, exc_info=exc)
    return {"detail": INTERNAL_ERROR, "request_id": request_id}


def validation_details(errors: list[Any]) -> list[dict[str, str]]:
    """FastAPI's validation errors as ``[{"field", "message"}]``: the field's path (``reason``,
    ``data.decision``, ``limit``) for programs, a Chinese message naming its label for people."""
    details = []
    for error in errors:
        loc = tuple(error.get("loc", ()))
        field = "body" if error.get("type") == "json_invalid" else _field(loc)
        details.append({"field": field, "message": chinese_message(error, label(loc))})
    return details


def http_detail(status: int, detail: Any) -> Any:
    """Starlette's English reason (``Not Found``) with a Chinese first part; a detail already Chinese
    (or not text) is kept."""
    if not isinstance(detail, str) or has_chinese(detail):
        return detail
    return f"{HTTP_DETAILS.get(status, '请求无法处理')} / {detail}"


# ------------------------------------------------------------------------------------------ error pages

# not pages: the API, its documentation and description, files, and what operations poll
NOT_PAGES = ("/api", "/docs", "/openapi.json", "/static", "/healthz", "/metrics")


def is_page_path(path: str) -> bool:
    """Whether ``path`` is (or would be) one of the pages a person opens in a browser: its errors are
    Chinese HTML pages, everything else keeps answering JSON."""
    return not any(path == prefix or path.startswith(prefix + "/") for prefix in NOT_PAGES)


PAGE_TEXTS: dict[int, tuple[str, str]] = {
    400: ("请求有误", "无法处理该请求，请返回后重新操作。"),
    403: ("无权访问", "您没有执行此操作的权限。"),
    404: ("页面不存在", "您访问的页面不存在，或您无权查看。请检查地址是否正确。"),
    405: ("不支持该操作", "该页面不支持此操作，请返回后重新操作。"),
    409: ("操作未完成", "数据已被他人修改，请刷新页面后重试。"),
    413: ("提交的内容过大", "提交的内容超过了允许的大小，请删减后重试。"),
    422: ("提交的内容有误", "提交的内容有误，请返回更正后重试。"),
    429: ("操作过于频繁", "操作过于频繁，请稍后再试。"),
    500: ("系统出错", "系统处理您的请求时出错，请稍后重试。如问题持续存在，请联系管理员并告知请求编号 {request_id}。"),
    503: ("服务暂时不可用", "数据库暂时不可用，请稍后重试。"),
}

# the last resort when even the error page cannot be rendered (no script, no style: the CSP forbids them)
BARE_PAGE = """<!doctype html>
<html lang="zh-CN">
<head><meta charset="utf-8"><title>{title}</title></head>
<body><h1>{title}</h1><p>{message}</p><p><a href="/">返回首页</a></p></body>
</html>
"""


def _chinese_part(message: str) -> str:
    return message.split(" / ", 1)[0]


def _page_message(status: int, detail: Any, request_id: str) -> str:
    """What the page says: the Chinese part of the answer's own message where it helps (why a task is
    refused, which fields are wrong), never for a 404 (it must not tell a hidden object from a missing one)."""
    default = PAGE_TEXTS.get(status, PAGE_TEXTS[400])[1].format(request_id=request_id)
    if status in (404, 413, 500, 503):
        return default
    if isinstance(detail, str) and has_chinese(detail):
        return _chinese_part(detail)
    if isinstance(detail, list):
        messages = [_chinese_part(str(item.get("message", ""))) for item in detail if isinstance(item, Mapping)]
        if messages and all(has_chinese(m) for m in messages):
            return "请更正以下内容：" + "；".join(messages) + "。"
    return default


def page_error(request: Request, status: int, detail: Any, me: SignedIn | None = None,
               headers: Mapping[str, str] | None = None) -> Response:
    """The Chinese HTML page for an error on a page path, with the frame of ``me`` when known."""
    from web.pages.render import error_page, to_login

    if status == 401:
        return to_login(request)
    request_id = request_id_of(request)
    title = PAGE_TEXTS.get(status, PAGE_TEXTS[400])[0]
    message = _page_message(status, detail, request_id)
    try:
        response: Response = error_page(request, me, status, title, message, "/", "返回首页")
    except Exception as exc:  # a broken template must not hide the error the person is to be told about
        log.error("error page not rendered, request_id=%s", request_id, exc_info=exc)
        response = HTMLResponse(BARE_PAGE.format(title=title, message=message), status_code=status)
    response.headers.update(headers or {})
    return response


async def _viewer(request: Request) -> SignedIn | None:
    """The signed-in user, for the frame of a 4xx page; ``None`` without a session cookie, or when it
    cannot be read (the page then shows without the frame rather than fail)."""
    from web.pages.sessions import SESSION_COOKIE, signed_in

    product = getattr(request.app.state, "product", None)
    if product is None or SESSION_COOKIE not in request.cookies:
        return None

    def read() -> SignedIn | None:
        with product.reader() as uow:
            return signed_in(request, product, uow.session)

    try:
        return await run_in_threadpool(read)
    except Exception as exc:  # the frame is a courtesy: the error page shows without it
        log.warning("error page without its frame, request_id=%s: %s", request_id_of(request), type(exc).__name__)
        return None


async def respond(request: Request, status: int, detail: Any, headers: Mapping[str, str] | None = None) -> Response:
    """JSON ``{"detail": …}`` for the API, a Chinese HTML page for a page path."""
    if not is_page_path(request.url.path):
        return _json(status, detail, headers)
    me = await _viewer(request) if status < 500 else None  # a 5xx page touches no database
    return page_error(request, status, detail, me, headers)


# ---------------------------------------------------------------------------------------- database errors

# SQLite reports its own outages as OperationalError, but also mistakes in the SQL ("no such column"):
# only these messages mean the database could not be used, the rest are bugs (500, with a traceback)
SQLITE_OUTAGES = ("database is locked", "database table is locked", "unable to open database", "disk i/o error",
                  "database or disk is full")


def is_outage(exc: Exception) -> bool:
    orig = getattr(exc, "orig", None)
    if isinstance(orig, sqlite3.Error):
        return any(marker in str(orig).lower() for marker in SQLITE_OUTAGES)
    return True


def database_unavailable(request: Request, exc: Exception) -> Response:
    """503 with ``Retry-After`` for a database that cannot be reached: one log line (the driver's reason, no
    SQL, no parameters), since an outage would otherwise fill the log with identical tracebacks."""
    orig = getattr(exc, "orig", None) or exc
    reason = (str(orig).strip().splitlines() or [""])[0][:200]
    log.warning("database unavailable, request_id=%s, route=%s %s: %s: %s", request_id_of(request),
                request.method, request.url.path, type(orig).__name__, reason)
    headers = {"Retry-After": RETRY_AFTER}
    if is_page_path(request.url.path):
        return page_error(request, 503, DATABASE_UNAVAILABLE, None, headers)
    return _json(503, DATABASE_UNAVAILABLE, headers)


def unexpected(request: Request, exc: Exception) -> Response:
    """500 for an exception an exception handler met (a database error that is a bug): logged once."""
    body = internal_error(request_id_of(request), request.method, request.url.path, exc)
    if is_page_path(request.url.path):
        return page_error(request, 500, body["detail"])
    return JSONResponse(body, status_code=500)


def install(app: FastAPI) -> None:
    @app.exception_handler(WebError)
    async def web_error(request: Request, exc: WebError) -> Response:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return await respond(request, exc.status, exc.detail, headers)

    @app.exception_handler(EngineError)
    async def engine_error(request: Request, exc: EngineError) -> Response:
        if isinstance(exc, NotFound):
            return await respond(request, 404, NOT_FOUND)
        if isinstance(exc, Forbidden):
            return await respond(request, 403, str(exc))
        if isinstance(exc, InvalidInput):
            return await respond(request, 422, [e.as_dict() for e in exc.errors])
        if isinstance(exc, InvalidWorkflow):
            return await respond(request, 400, [i.as_dict() for i in exc.issues])
        if isinstance(exc, Conflict | ScriptError):
            return await respond(request, 409, str(exc))
        return await respond(request, 400, str(exc))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        return await respond(request, 422, validation_details(list(exc.errors())))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return await respond(request, exc.status_code, http_detail(exc.status_code, exc.detail), exc.headers)

    @app.exception_handler(IntegrityError)
    async def integrity_error(request: Request, exc: IntegrityError) -> Response:
        # a concurrent insert of the same key, or a constraint the validation missed: nothing was stored
        return await respond(request, 409, "与已有数据冲突 / conflicts with existing data")

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    @app.exception_handler(PoolTimeout)
    async def database_down(request: Request, exc: Exception) -> Response:
        # a refused or lost connection, a server shutting down, SQLite's "database is locked", every
        # pooled connection busy: nothing was acknowledged, the client may retry
        if is_outage(exc):
            return database_unavailable(request, exc)
        return unexpected(request, exc)

    @app.exception_handler(DBAPIError)
    async def database_error(request: Request, exc: DBAPIError) -> Response:
        if exc.connection_invalidated:  # the server dropped the connection: nothing was acknowledged
            return database_unavailable(request, exc)
        return unexpected(request, exc)

    @app.exception_handler(DataError)
    async def data_error(request: Request, exc: DataError) -> Response:
        # a value the database cannot hold (e.g. a NUL character in text): the transaction rolled back
        return await respond(request, 422, [{"field": "body",
                                             "message": "无法保存的值 / a value the database cannot store"}])
