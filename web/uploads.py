"""Reading a multipart upload without ever taking in more than the size limit allows.

A request announcing more than the limit (``Content-Length``) is refused before its body is read; one that
does not announce its length is read until it passes the limit and refused then. Only a body within the
limit (plus the room the form's other fields and the multipart framing take) is parsed, and of each file
at most ``limit + 1`` bytes are read: enough to tell that it is too large.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import quote

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message

from agencies.attachments import FileTooLarge

FORM_ROOM = 256 * 1024  # the form's other fields and the multipart framing around the files
MAX_FIELD = 64 * 1024  # one text field (the note, a token)


@dataclass
class Upload:
    """The posted form: its text fields, and its files as (name as sent, bytes)."""

    fields: dict[str, str] = field(default_factory=dict)
    files: dict[str, list[tuple[str, bytes]]] = field(default_factory=dict)

    def text(self, name: str) -> str:
        return self.fields.get(name, "")


async def read_upload(request: Request, limit: int, *, max_files: int = 1) -> Upload:
    """The multipart form of ``request``, whose files may each have up to ``limit`` bytes (``max_files`` of
    them); ``FileTooLarge`` as soon as the request or a file is larger."""
    cap = limit * max_files + FORM_ROOM
    announced = request.headers.get("content-length", "")
    if announced.isdigit() and int(announced) > cap:
        raise FileTooLarge(limit)
    chunks: list[bytes] = []
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > cap:
            raise FileTooLarge(limit)
        chunks.append(chunk)
    body = b"".join(chunks)
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    replay = Request(request.scope, receive)
    upload = Upload()
    async with replay.form(max_files=max_files + 1, max_fields=20, max_part_size=MAX_FIELD) as form:
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                data = await value.read(limit + 1)
                if len(data) > limit:
                    raise FileTooLarge(limit)
                if value.filename or data:  # a file input left empty posts a nameless, empty part
                    upload.files.setdefault(key, []).append((value.filename or "", data))
            else:
                upload.fields.setdefault(key, value)
    return upload


def content_disposition(filename: str, fallback: str | None = None) -> str:
    """``attachment`` with the name for every browser: an ASCII fallback (``fallback``, else the name with
    its other characters replaced) and the UTF-8 name (RFC 5987/6266)."""
    fallback = fallback or "".join(
        ch if 0x20 <= ord(ch) < 0x7F and ch not in '"\\;%' else "_" for ch in filename) or "file"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def file_response(filename: str, content_type: str, data: bytes) -> Response:
    """A stored file as a download: its detected type, ``nosniff``, never shown inline nor kept in a cache
    (evidence holds personal data)."""
    return Response(data, media_type=content_type, headers={
        "Content-Disposition": content_disposition(filename), "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store", "Content-Security-Policy": "default-src 'none'; sandbox"})
