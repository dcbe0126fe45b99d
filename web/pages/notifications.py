"""The notices page (``/notifications``): the signed-in user's in-app notices, newest first, 20 a page,
the unread ones marked in words as well as in style; each can be marked read, or all at once.

Reads go through ``notifications.in_app`` (the user's own notices only); marking goes through the
service functions, each one unit of work, and comes back here with a redirect (PRG).
"""

from __future__ import annotations

import math
from typing import Annotated
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Form, Query, Request
from starlette.responses import RedirectResponse, Response

from complaintflow.services import notices as notice_actions
from engine.errors import NotFound
from notifications.in_app import list_notices
from web import supervision_queries as reads
from web.deps import ProductDep, SessionDep
from web.pages.render import page, safe_next, stale_form, to_login
from web.pages.sessions import SignedInDep, same_token
from web.pages.supervision import chinese_datetime

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 20
MAX_PAGE = 1_000_000 // PAGE_SIZE  # the API's largest offset
FILTER_LABELS = {"": "全部", "unread": "未读"}
DONE = {"read": "已标为已读", "all": "已将全部通知标为已读", "none": "没有未读通知",
        "missing": "未找到该通知，未作更改"}
FormText = Annotated[str, Form()]


def _page_number(raw: str | None) -> int:
    return int(raw) if raw is not None and raw.isdigit() and 1 <= int(raw) <= MAX_PAGE else 1


def _link(filter_key: str = "", page_number: int = 1) -> str:
    params = {key: value for key, value in (("filter", filter_key), ("page", page_number)) if value and value != 1}
    return "/notifications" + (f"?{urlencode(params)}" if params else "")


@router.get("/notifications")
def notifications(request: Request, session: SessionDep, me: SignedInDep,
                  filter_key: Annotated[str | None, Query(alias="filter")] = None,
                  page_raw: Annotated[str | None, Query(alias="page")] = None,
                  done: str | None = None) -> Response:
    if me is None:
        return to_login(request)
    user_id = me.principal.user.id
    chosen = filter_key if filter_key in FILTER_LABELS else ""
    number = _page_number(page_raw)
    everything, unread = reads.notice_counts(session, user_id)
    total = unread if chosen == "unread" else everything
    rows = list_notices(session, user_id, unread_only=chosen == "unread", limit=PAGE_SIZE,
                        offset=(number - 1) * PAGE_SIZE)
    pages = max(1, math.ceil(total / PAGE_SIZE))
    here = _link(chosen, number)
    items = [{"id": n.id, "subject": n.subject, "body": n.body.strip(), "unread": n.read_at is None,
              "at": chinese_datetime(n.created_at), "iso": n.created_at.isoformat(timespec="minutes"),
              "complaint_href": f"/complaints/{n.complaint_id}" if n.complaint_id is not None else None}
             for n in rows]
    return page(request, "notifications.html", me, nav="notifications", items=items, total=total,
                everything=everything, unread=unread, here=here, notice=DONE.get(done or ""),
                filters=[{"label": label, "href": _link(key), "current": key == chosen}
                         for key, label in FILTER_LABELS.items()],
                page_number=number, pages=pages,
                previous=_link(chosen, number - 1) if number > 1 else None,
                next=_link(chosen, number + 1) if number < pages else None)


def _back(back: str, done: str) -> str:
    """Where a marking form returns: the list it was on (only ever this page), saying what happened."""
    target = safe_next(back)
    if target is None or urlsplit(target).path != "/notifications":
        target = "/notifications"
    return target + ("&" if "?" in target else "?") + f"done={done}"


@router.post("/notifications/{notice_id}/read")
def mark_read(request: Request, product: ProductDep, session: SessionDep, me: SignedInDep, notice_id: str,
              csrf_token: FormText = "", back: FormText = "") -> Response:
    """Mark one notice read. Another user's notice (or none) is the same as a missing one: back to the
    list, nothing changed, nothing told."""
    if me is None:
        return to_login(request)
    if not same_token(me.session.csrf, csrf_token):
        return stale_form(request, me, "/notifications")
    session.rollback()  # end this request's read before the write
    try:
        if not notice_id.isdigit() or len(notice_id) > 18:
            raise NotFound("notice not found")
        notice_actions.mark_notice_read(product, me.principal.user.id, int(notice_id))
    except NotFound:
        return RedirectResponse(_back(back, "missing"), status_code=303)
    return RedirectResponse(_back(back, "read"), status_code=303)


@router.post("/notifications/read-all")
def mark_all_read(request: Request, product: ProductDep, session: SessionDep, me: SignedInDep,
                  csrf_token: FormText = "", back: FormText = "") -> Response:
    if me is None:
        return to_login(request)
    if not same_token(me.session.csrf, csrf_token):
        return stale_form(request, me, "/notifications")
    session.rollback()
    marked = notice_actions.mark_all_notices_read(product, me.principal.user.id)
    return RedirectResponse(_back(back, "all" if marked else "none"), status_code=303)
