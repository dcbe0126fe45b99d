"""Evidence files of a complaint: upload (multipart ``file``, ``note``?), list, download; only for the agencies
involved in the complaint (404 to anyone else, like a missing one)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, status
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from agencies.attachments import NO_FILE, FileRefused
from complaintflow.services import attachments
from web.deps import Id, ProductDep, StaffUser
from web.errors import WebError
from web.uploads import file_response, read_upload

router = APIRouter(tags=["attachments"])

FILE_FIELD = "file"


class Refused(WebError):
    """A file not accepted: 413 too large, 415 a type not allowed, 422; the detail names the field."""

    def __init__(self, refused: FileRefused) -> None:
        super().__init__([{"field": refused.field, "message": refused.message}])
        self.status = refused.status


class AttachmentOut(BaseModel):
    id: int
    filename: str
    content_type: str
    size: int
    sha256: str


class AttachmentItem(AttachmentOut):
    note: str | None
    uploaded_by: str
    uploaded_at: datetime
    task_id: str | None


_UPLOAD_BODY = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": [FILE_FIELD], "properties": {
        FILE_FIELD: {"type": "string", "format": "binary", "description": "the evidence file, at most 20 MB"},
        "note": {"type": "string", "maxLength": 500, "description": "what the file shows"}}}}}}}


@router.post("/api/v1/complaints/{complaint_id}/attachments", status_code=status.HTTP_201_CREATED,
             response_model=AttachmentOut, openapi_extra=_UPLOAD_BODY)
async def upload(complaint_id: Id, request: Request, principal: StaffUser, product: ProductDep) -> Any:
    """Attach an evidence file. Its type is found from the content (images, PDF, Office documents, plain
    text; 415 otherwise), at most 20 MB (413, refused from ``Content-Length`` before the body is read); the
    same bytes are stored once."""
    limit = attachments.size_limit(product)
    try:
        form = await read_upload(request, limit)
        files = form.files.get(FILE_FIELD, [])
        if len(files) != 1:
            raise FileRefused(NO_FILE)
        [(filename, data)] = files
        stored = await run_in_threadpool(attachments.attach, product, complaint_id, filename, data,
                                         form.text("note"), principal.actor)
    except FileRefused as refused:
        raise Refused(refused) from None
    return AttachmentOut(id=stored.id, filename=stored.filename, content_type=stored.content_type, size=stored.size,
                         sha256=stored.sha256)


@router.get("/api/v1/complaints/{complaint_id}/attachments", response_model=list[AttachmentItem])
def list_attachments(complaint_id: Id, principal: StaffUser, product: ProductDep) -> Any:
    """The complaint's evidence files, oldest first."""
    return [AttachmentItem(id=a.id, filename=a.filename, content_type=a.content_type, size=a.size, sha256=a.sha256,
                           note=a.note, uploaded_by=a.uploaded_by, uploaded_at=a.uploaded_at, task_id=a.task_id)
            for a in attachments.list_attachments(product, complaint_id, principal.actor)]


@router.get("/api/v1/attachments/{attachment_id}", response_class=Response,
            responses={200: {"content": {"application/octet-stream": {}}, "description": "the file"}})
def download(attachment_id: Id, principal: StaffUser, product: ProductDep) -> Response:
    """The file, as the type found in its content, always as a download (never shown in the page)."""
    info, data = attachments.read_attachment(product, attachment_id, principal.actor)
    return file_response(info.filename, info.content_type, data)


# the complaint page's upload and download (web/pages/complaint_files.py), registered with the API's routes
