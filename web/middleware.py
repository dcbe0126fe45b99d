"""ASGI middleware: request ids, security headers, body size limits, request metrics and the one log
record of an unexpected error."""

from __future__ import annotations

import json
import re
import time
import uuid
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agencies.attachments import MAX_FILES_AT_INTAKE, FileTooLarge, limit_bytes
from complaintflow.metrics import LATENCY, REQUESTS
from web.errors import internal_error, is_page_path, page_error

JSON_LIMIT = 1 * 1024 * 1024
UPLOAD_LIMIT = 6 * 1024 * 1024  # BPMN uploads (the parser itself refuses more than 5 MB)
FORM_OVERHEAD = 256 * 1024  # a multipart body's other fields and boundaries beside its files
# the paths that take evidence files: one file, or up to MAX_FILES_AT_INTAKE with the public complaint form
ONE_FILE_PATHS = re.compile(r"^(/api/v1)?/complaints/\d+/attachments$")
INTAKE_FILES_PATHS = re.compile(r"^/public/complaints/new$")

# a client's own request id is kept only when it is short printable ASCII: it is echoed in a header and
# written to the log, where anything else could break the header or forge a log line
REQUEST_ID = re.compile(rb"[A-Za-z0-9._-]{1,64}")

# no inline script, no plugins, no framing, forms and everything else from this origin only
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; "
                           "frame-ancestors 'none'; form-action 'self'")
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)
STATIC_PREFIX = "/static/"  # public assets (scripts, styles): the only answers a browser may keep


class _TooLarge(Exception):
    pass


def request_id_from(scope: Scope) -> str:
    """The client's ``X-Request-ID`` when it is a safe token, else a fresh one."""
    given = next((value for name, value in scope["headers"] if name == b"x-request-id"), b"")
    return given.decode("ascii") if REQUEST_ID.fullmatch(given) else uuid.uuid4().hex


def with_security_headers(path: str, headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """Add the headers every answer carries; a route may set its own CSP (the API docs page does).

    Nothing but static assets may be stored by a browser or a proxy: API answers carry personal data."""
    names = {name.lower() for name, _value in headers}
    added = [header for header in SECURITY_HEADERS if header[0] not in names]
    if b"content-security-policy" not in names:
        added.append((b"content-security-policy", CONTENT_SECURITY_POLICY.encode()))
    if b"cache-control" not in names and not path.startswith(STATIC_PREFIX):
        added.append((b"cache-control", b"no-store"))
    return headers + added


class RequestContext:
    """Gives every request an id (``X-Request-ID``) and the security headers, refuses oversized bodies with
    413, counts and times it, and answers an unexpected exception with a 500 carrying the id (JSON, or a
    Chinese HTML page on a page path).

    The 500 is made here rather than by an ``Exception`` handler: Starlette runs such a handler in its
    outermost middleware and re-raises, so uvicorn logged the traceback a second time. Here it is logged
    once (``web.errors.internal_error``) and goes no further."""

    def __init__(self, app: ASGIApp, file_limit: int = limit_bytes()) -> None:
        self.app = app
        self.file_limit = file_limit  # one evidence file's limit: the service checks it exactly

    def too_large(self, path: str, limit: int) -> dict[str, str]:
        """The 413's error: for evidence files the files' limit in Chinese, else the body's size."""
        if ONE_FILE_PATHS.match(path) or INTAKE_FILES_PATHS.match(path):
            return {"field": "file", "message": FileTooLarge(self.file_limit).message}
        return {"field": "body", "message": f"请求体过大 / body larger than {limit} bytes"}

    def body_limit(self, path: str) -> int:
        """The most a request to ``path`` may send: evidence files, a BPMN file, or a JSON or form body."""
        if ONE_FILE_PATHS.match(path):
            return self.file_limit + FORM_OVERHEAD
        if INTAKE_FILES_PATHS.match(path):
            return MAX_FILES_AT_INTAKE * self.file_limit + FORM_OVERHEAD
        return UPLOAD_LIMIT if path.startswith("/api/v1/workflows") else JSON_LIMIT

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        path: str = scope["path"]
        limit = self.body_limit(path)
        length = dict(scope["headers"]).get(b"content-length")
        started = time.perf_counter()
        status = {"code": 500}
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
                status["code"] = message["status"]
                headers = with_security_headers(path, list(message.get("headers", [])))
                message["headers"] = [*headers, (b"x-request-id", request_id.encode())]
            await send(message)

        received = {"bytes": 0}

        async def limited_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                received["bytes"] += len(message.get("body", b""))
                if received["bytes"] > limit:
                    raise _TooLarge
            return message

        try:
            if length is not None and length.isdigit() and int(length) > limit:
                raise _TooLarge
            if b"%00" in scope.get("query_string", b"") or "\x00" in path:
                nul = "不允许 NUL 字符 / NUL characters are not allowed"
                await _send_error(scope, send_with_id, 422, {"detail": [{"field": "query", "message": nul}]})
                return
            await self.app(scope, limited_receive, send_with_id)
        except _TooLarge:
            await _send_error(scope, send_with_id, 413, {"detail": [self.too_large(path, limit)]})
        except Exception as exc:
            body = internal_error(request_id, scope["method"], path, exc)
            if not response_started:  # else the client sees the connection end short of the body
                await _send_error(scope, send_with_id, 500, body)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", "unmatched")
            REQUESTS.labels(scope["method"], template, str(status["code"])).inc()
            LATENCY.labels(scope["method"], template).observe(time.perf_counter() - started)


async def _send_error(scope: Scope, send: Send, status: int, body: dict[str, Any]) -> None:
    """The error as JSON, or on a page path as the Chinese HTML page (without the user's frame: nothing
    here reads the database)."""
    if not is_page_path(scope["path"]):
        await _send_json(send, status, body)
        return
    response = page_error(Request(scope), status, body["detail"])

    async def nothing_to_receive() -> Message:
        return {"type": "http.disconnect"}

    await response(scope, nothing_to_receive, send)


async def _send_json(send: Send, status: int, body: Any) -> None:
    payload = json.dumps(body, ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]})
    await send({"type": "http.response.body", "body": payload})
