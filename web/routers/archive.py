"""The case file (卷宗): archive a complaint whose process has ended, download the archived ZIP.

Also carries the complaint page's own archive routes (``web.pages.complaint_archive``: the button and the
download with the session cookie), so the case file's routes come in one router.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, status
from starlette.responses import Response

from complaintflow.services import archive as archiving
from engine.errors import NotFound
from web import queries
from web.deps import Id, ProductDep, SessionDep, StaffUser
from web.pages import complaint_archive
from web.schemas import ArchivedOut

router = APIRouter(prefix="/api/v1", tags=["complaints"])

NOT_ARCHIVED = "未找到卷宗：投诉件不存在、尚未归档或本单位无权查看 / no archived case file"


@router.post("/complaints/{complaint_id}/archive", status_code=status.HTTP_201_CREATED, response_model=ArchivedOut)
def archive(complaint_id: Id, principal: StaffUser, product: ProductDep) -> Any:
    """归档: a supervisor of the handling agency (the competent agency, else the receiving one) archives a complaint
    whose own process has ended; the case file (ZIP: index, facts, handling record, documents, evidence, manifest)
    is fixed by its SHA-256 and the complaint no longer changes. 404 for a complaint your agency may not see, 403
    for anyone else who sees it, 409 before the process has ended or once archived."""
    done = archiving.archive(product, complaint_id, principal.actor)
    return ArchivedOut(complaint_id=done.complaint_id, archived_at=done.archived_at, sha256=done.sha256,
                       size=done.size)


@router.get("/complaints/{complaint_id}/archive.zip", response_class=Response,
         responses={200: {"content": {"application/zip": {}}, "description": "the case file"}})
def archive_zip(complaint_id: Id, principal: StaffUser, session: SessionDep, product: ProductDep,
                if_none_match: Annotated[str | None, Header()] = None) -> Any:
    """The archived case file, to the agencies involved (404 before archiving and to anyone else); ``ETag`` is its
    SHA-256, the name 卷宗_<投诉编号>.zip."""
    try:
        complaint = queries.visible_complaint(session, complaint_id, principal.agency_id)
    except NotFound:
        raise NotFound(NOT_ARCHIVED) from None
    answer = complaint_archive.case_file_response(session, product.blobs, complaint, if_none_match)
    if answer is None:
        raise NotFound(NOT_ARCHIVED)
    return answer

