"""The complaint page's 证据材料 section: the complaint's evidence files, each to download, and a form to add
one (``POST /complaints/{id}/attachments``, then back to the page: PRG; refused, the page again with the
message beside the file field).

Only an agency involved in the complaint sees the section (``complaintflow.services.attachments``); the
download (``/attachments/{id}``) answers 404 to anyone else, like a missing file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from agencies.attachments import DOC, DOCX, IMAGE_TYPES, MAX_NOTE, NO_FILE, PDF, PPTX, XLS, XLSX, FileRefused
from complaintflow.services import attachments
from complaintflow.wiring import Product
from engine.clock import chinese_date
from engine.errors import Conflict, NotFound
from web import queries
from web.deps import MAX_ID, ProductDep, SessionDep
from web.pages.render import chinese, error_page, stale_form, to_login
from web.pages.sessions import SignedIn, SignedInDep, same_token
from web.uploads import file_response, read_upload

router = APIRouter(include_in_schema=False)

SECTION = "attachments"  # the section's anchor
UPLOADED = "attached"  # ?done=… after an upload
TYPE_LABELS = {PDF: "PDF", DOC: "Word 文档", DOCX: "Word 文档", XLS: "Excel 表格", XLSX: "Excel 表格",
               PPTX: "PowerPoint 演示文稿", **dict.fromkeys(IMAGE_TYPES, "图片")}
PUBLIC = "投诉人（网上提交）"
NOT_FOUND_TITLE = "未找到文件"
NOT_FOUND_TEXT = "该文件不存在，或本单位未参与办理该投诉件，无权查看。"


@dataclass
class UploadForm:
    """The upload form as posted: the note as typed, the messages beside its fields, a refusal of no field."""

    note: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    problem: str | None = None


def size_text(size: int) -> str:
    """1.5 MB, 12 KB (KB rounded up, so a small file never shows 0 KB)."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    return f"{max(1, -(-size // 1024))} KB"


def type_label(content_type: str) -> str:
    return "文本" if content_type.startswith("text/plain") else TYPE_LABELS.get(content_type, content_type)


def attachments_context(request: Request, product: Product, session: Session, complaint_id: int,
                        me: SignedIn) -> dict[str, Any] | None:
    """What ``_complaint_attachments.html`` renders, or ``None`` (no section) when the user's agency is not
    involved in the complaint. The form as posted comes from ``request.state`` after a refused upload."""
    try:
        items = attachments.list_attachments(product, complaint_id, me.principal.actor)
    except NotFound:
        return None
    names = queries.display_names(session, {a.uploaded_by for a in items})
    form: UploadForm = getattr(request.state, "attachment_form", None) or UploadForm()
    return {
        "files": [{"id": a.id, "filename": a.filename, "type": type_label(a.content_type), "size": size_text(a.size),
                   "uploader": names.get(a.uploaded_by, PUBLIC if a.uploaded_by == attachments.PUBLIC_UPLOADER
                                         else a.uploaded_by),
                   "at": chinese_date(a.uploaded_at), "note": a.note or "", "href": f"/attachments/{a.id}"}
                  for a in items],
        "action": f"/complaints/{complaint_id}/attachments", "note": form.note, "errors": form.errors,
        "problem": form.problem, "done": request.query_params.get("done") == UPLOADED,
        "limit_mb": attachments.size_limit(product) // (1024 * 1024), "max_note": MAX_NOTE,
    }


def _complaint_id(raw: str) -> int | None:
    return int(raw) if raw.isdigit() and 1 <= int(raw) <= MAX_ID else None


@router.post("/complaints/{complaint_id}/attachments")
async def upload(request: Request, product: ProductDep, session: SessionDep, me: SignedInDep,
                 complaint_id: str) -> Response:
    """Add an evidence file from the complaint page: the same service as the API's upload."""
    if me is None:
        return to_login(request)
    number = _complaint_id(complaint_id)
    try:
        form = await read_upload(request, attachments.size_limit(product))
    except FileRefused as refused:
        return await run_in_threadpool(_again, request, product, session, me, complaint_id,
                                       UploadForm(errors={"file": chinese(refused.message)}), refused.status)
    if not same_token(me.session.csrf, form.text("csrf_token")):
        return stale_form(request, me, f"/complaints/{complaint_id}")
    note = form.text("note")
    files = form.files.get("file", [])
    try:
        if number is None:
            raise NotFound(attachments.NOT_FOUND)
        if len(files) != 1:
            raise FileRefused(NO_FILE)
        [(filename, data)] = files
        await run_in_threadpool(attachments.attach, product, number, filename, data, note, me.principal.actor)
    except FileRefused as refused:
        return await run_in_threadpool(_again, request, product, session, me, complaint_id,
                                       UploadForm(note, {refused.field: chinese(refused.message)}), refused.status)
    except Conflict as conflict:
        return await run_in_threadpool(_again, request, product, session, me, complaint_id,
                                       UploadForm(note, problem="未能上传：" + chinese(str(conflict))), 409)
    except NotFound:
        return error_page(request, me, 404, "未找到投诉件", "该投诉件不存在，或本单位未参与办理，无权查看。",
                          "/complaints", "返回投诉件查询")
    return RedirectResponse(f"/complaints/{number}?done={UPLOADED}#{SECTION}", status_code=303)


def _again(request: Request, product: Product, session: Session, me: SignedIn, complaint_id: str, form: UploadForm,
           status: int) -> Response:
    """The complaint page again, the form as posted and its messages in the 证据材料 section."""
    from web.pages import complaints  # the page this section belongs to (it imports this module)

    request.state.attachment_form = form
    session.rollback()
    return complaints._show(request, product, session, me, complaint_id, complaints.Designating(status=status), None)


@router.get("/attachments/{attachment_id}")
def download(request: Request, product: ProductDep, me: SignedInDep, attachment_id: str) -> Response:
    """The file as a download, for the agencies involved in its complaint (404 to anyone else)."""
    if me is None:
        return to_login(request)
    number = _complaint_id(attachment_id)
    try:
        if number is None:
            raise NotFound(attachments.ATTACHMENT_NOT_FOUND)
        info, data = attachments.read_attachment(product, number, me.principal.actor)
    except NotFound:
        return error_page(request, me, 404, NOT_FOUND_TITLE, NOT_FOUND_TEXT, "/complaints", "返回投诉件查询")
    return file_response(info.filename, info.content_type, data)
