"""ASGI middleware: request ids, body size limits and request metrics."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from complaintflow.metrics import LATENCY, REQUESTS

JSON_LIMIT = 1 * 1024 * 1024
UPLOAD_LIMIT = 6 * 1024 * 1024  # BPMN uploads (the parser itself refuses more than 5 MB)


class _TooLarge(Exception):
    pass


class RequestContext:
    """Gives every request an id (``X-Request-ID``), refuses oversized bodies with 413, counts and times it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = dict(scope["headers"]).get(b"x-request-id", b"").decode()[:64] or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        limit = UPLOAD_LIMIT if scope["path"].startswith("/api/v1/workflows") else JSON_LIMIT
        length = dict(scope["headers"]).get(b"content-length")
        started = time.perf_counter()
        status = {"code": 500}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
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
            if b"%00" in scope.get("query_string", b"") or "\x00" in scope["path"]:
                await _send_json(send_with_id, 422, {"detail": [{"field": "query", "message":
                                                                 "不允许 NUL 字符 / NUL characters are not allowed"}]})
                return
            await self.app(scope, limited_receive, send_with_id)
        except _TooLarge:
            await _send_json(send_with_id, 413, {"detail": [{"field": "body", "message":
                                                             f"请求体过大 / body larger than {limit} bytes"}]})
        finally:
            route = scope.get("route")
            template = getattr(route, "path", "unmatched")
            REQUESTS.labels(scope["method"], template, str(status["code"])).inc()
            LATENCY.labels(scope["method"], template).observe(time.perf_counter() - started)


async def _send_json(send: Send, status: int, body: Any) -> None:
    payload = json.dumps(body, ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]})
    await send({"type": "http.response.body", "body": payload})
