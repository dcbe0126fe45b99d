"""A signed-in user's in-app notices: the list, and marking one read."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, status

from complaintflow.services import notices
from notifications.in_app import list_notices
from web.deps import CurrentUser, Id, ProductDep, SessionDep
from web.schemas import NoticeOut

router = APIRouter(tags=["notifications"])


@router.get("/api/v1/notifications", response_model=list[NoticeOut])
def notifications(principal: CurrentUser, session: SessionDep, unread: bool = False,
                  limit: Annotated[int, Query(ge=1, le=200)] = 50,
                  offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> Any:
    rows = list_notices(session, principal.user.id, unread_only=unread, limit=limit, offset=offset)
    return [{"id": n.id, "template": n.template, "subject": n.subject, "body": n.body,
             "complaint_id": n.complaint_id, "created_at": n.created_at, "read": n.read_at is not None} for n in rows]


@router.post("/api/v1/notifications/{notice_id}/read", status_code=status.HTTP_204_NO_CONTENT)
def read_notice(notice_id: Id, principal: CurrentUser, product: ProductDep) -> None:
    notices.mark_notice_read(product, principal.user.id, notice_id)
