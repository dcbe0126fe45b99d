"""The 归档 section of a complaint's page, archiving from it, and downloading the case file (卷宗).

The section shows, once the complaint is archived, when, the case file's SHA-256 and (to the agencies
involved) a link to the ZIP; before that, to a supervisor of the handling agency once the complaint's own
process has ended, a button that archives it through the same service as
``POST /api/v1/complaints/{id}/archive`` (POST with the CSRF token, then a redirect back to the section).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from agencies.archive import handling_agency_id, process_ended_at
from agencies.blobs import BlobStore
from agencies.tables import Complaint
from agencies.vocab import Role
from complaintflow.services import archive as archiving
from engine.errors import Conflict, Forbidden, NotFound
from web import queries
from web.deps import MAX_ID, ProductDep, SessionDep
from web.form_fields import chinese_part
from web.pages.render import error_page, stale_form, to_login
from web.pages.sessions import SignedIn, SignedInDep, same_token
from web.pages.timeline import when
from web.uploads import content_disposition

router = APIRouter(include_in_schema=False)

NOT_FOUND_TITLE = "未找到卷宗"
NOT_FOUND_TEXT = "该投诉件不存在、尚未归档，或本单位未参与办理，无权下载其卷宗。"
REFUSED_TITLE = "未能归档"


def context(session: Session, complaint: Complaint, me: SignedIn) -> dict[str, Any] | None:
    """What the section shows this user, or ``None`` when it has nothing to show them."""
    agency_id = me.principal.user.agency_id
    if complaint.archived_at is not None:
        return {"archived": True, "at": when(complaint.archived_at), "iso": complaint.archived_at.isoformat(),
                "sha256": complaint.archive_sha256,
                "href": f"/complaints/{complaint.id}/archive.zip" if _involved(session, complaint, agency_id) else None}
    supervisor = Role.SUPERVISOR.value in me.principal.actor.roles
    if not supervisor or agency_id != handling_agency_id(complaint) or process_ended_at(session, complaint) is None:
        return None
    return {"archived": False, "action": f"/complaints/{complaint.id}/archive"}


def _involved(session: Session, complaint: Complaint, agency_id: int | None) -> bool:
    if agency_id is None:
        return False
    try:
        queries.visible_complaint(session, complaint.id, agency_id)
    except NotFound:
        return False
    return True


def case_file_response(session: Session, blobs: BlobStore, complaint: Complaint,
                       if_none_match: str | None) -> Response | None:
    """The archived ZIP as a download named 卷宗_<投诉编号>.zip, its ETag the SHA-256 (304 when the client has
    it); ``None`` before archiving or when the stored bytes are missing."""
    sha256 = complaint.archive_sha256
    if complaint.archived_at is None or sha256 is None:
        return None
    etag = f'"{sha256}"'
    if if_none_match is not None and etag in {tag.strip() for tag in if_none_match.split(",")}:
        return Response(status_code=304, headers={"ETag": etag})
    data = blobs.get(session, sha256)
    if data is None:
        return None
    disposition = content_disposition(f"卷宗_{complaint.tracking_no}.zip", f"archive_{complaint.tracking_no}.zip")
    return Response(data, media_type="application/zip", headers={
        "Content-Disposition": disposition, "ETag": etag, "Cache-Control": "private, no-cache"})


def _complaint_id(raw: str) -> int | None:
    return int(raw) if raw.isdigit() and 1 <= int(raw) <= MAX_ID else None


@router.post("/complaints/{complaint_id}/archive")
def archive(request: Request, product: ProductDep, session: SessionDep, me: SignedInDep, complaint_id: str,
            csrf_token: Annotated[str, Form()] = "") -> Response:
    if me is None:
        return to_login(request)
    back = f"/complaints/{complaint_id}"
    if not same_token(me.session.csrf, csrf_token):
        return stale_form(request, me, back)
    number = _complaint_id(complaint_id)
    session.rollback()  # end this request's read before the write
    try:
        if number is None:
            raise NotFound("未找到投诉件")
        archiving.archive(product, number, me.principal.actor)
    except NotFound:
        return error_page(request, me, 404, "未找到投诉件", "该投诉件不存在，或本单位未参与办理，无权查看。",
                          "/complaints", "返回投诉件查询")
    except (Forbidden, Conflict) as error:
        return error_page(request, me, 403 if isinstance(error, Forbidden) else 409, REFUSED_TITLE,
                          chinese_part(str(error)), back + "#archive", "返回投诉件")
    return RedirectResponse(back + "#archive", status_code=303)


@router.get("/complaints/{complaint_id}/archive.zip")
def download(request: Request, product: ProductDep, session: SessionDep, me: SignedInDep,
             complaint_id: str) -> Response:
    """The case file with the page's session cookie (the API's ``archive.zip`` takes a token)."""
    if me is None:
        return to_login(request)
    number = _complaint_id(complaint_id)
    agency_id = me.principal.user.agency_id
    try:
        if number is None or agency_id is None:
            raise NotFound("未找到")
        complaint = queries.visible_complaint(session, number, agency_id)
    except NotFound:
        complaint = None
    answer = case_file_response(session, product.blobs, complaint, request.headers.get("if-none-match")) \
        if complaint is not None else None
    if answer is None:
        return error_page(request, me, 404, NOT_FOUND_TITLE, NOT_FOUND_TEXT, f"/complaints/{complaint_id}", "返回")
    return answer
