"""A business's own workspace (经营者): the complaints against its business (``/business/complaints``), one
of them (``/business/complaints/{id}``), and what its task page shows of a complaint.

A business sees only the complaints against itself, and a complaint as ``GET /api/v1/business/complaints/{id}``
shows it: the complainant's name, phone and e-mail masked, the ID number never, and of the handling only the
public-safe history the complainant's tracking page shows (dates, status words, task titles, agency names;
no text staff typed). Another business's complaint is the same 404 as a missing one. Agency staff and the
administrator get a 403: their complaints are at ``/complaints``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from agencies import labels
from agencies.businesses import party_code
from agencies.odr import pending_offer
from agencies.public_status import public_view
from agencies.tables import Complaint
from complaintflow.wiring import Product
from engine.clock import SHANGHAI, chinese_date
from engine.runner import TaskView
from web import queries
from web.deps import MAX_ID, Principal, ProductDep, SessionDep
from web.pages.inbox import deadline_state
from web.pages.render import error_page, is_business, page, to_login
from web.pages.sessions import SignedIn, SignedInDep
from web.pages.timeline import Entry, when

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
MAX_PAGE = 1_000_000 // PAGE_SIZE  # the API's largest offset
LIST = "/business/complaints"
BUSINESS_ONLY = "该页面仅供被投诉经营者的账号使用。机构工作人员请使用「投诉件查询」。"
NOT_FOUND_TITLE = "未找到投诉件"
NOT_FOUND_TEXT = "该投诉件不存在，或不是针对本单位的投诉，无权查看。"


def _refusal(request: Request, me: SignedIn | None) -> Response | None:
    """Sign in first; anyone but a business's own user gets 403; else ``None``."""
    if me is None:
        return to_login(request)
    if not is_business(me):
        return error_page(request, me, 403, "无权访问", BUSINESS_ONLY, "/", "返回首页")
    return None


def _page_number(raw: str | None) -> int:
    """``?page=`` as typed in an address bar: anything but a number in range means the first page."""
    return int(raw) if raw is not None and raw.isdigit() and 1 <= int(raw) <= MAX_PAGE else 1


def _link(page_number: int) -> str:
    return LIST + (f"?page={page_number}" if page_number > 1 else "")


def _status(status: str) -> dict[str, str]:
    return {"label": labels.status_label(status), "tone": labels.status_tone(status)}


@router.get("/business/complaints")
def complaint_list(request: Request, session: SessionDep, me: SignedInDep,
                   page_raw: Annotated[str | None, Query(alias="page")] = None) -> Response:
    refusal = _refusal(request, me)
    if refusal is not None or me is None:
        return refusal or to_login(request)
    number = _page_number(page_raw)
    found, total = queries.business_complaint_page(session, me.principal.business_id, limit=PAGE_SIZE,
                                                   offset=(number - 1) * PAGE_SIZE)
    pages = max(1, math.ceil(total / PAGE_SIZE))
    rows = [{"id": c.id, "tracking_no": c.tracking_no, "subject": c.subject, "status": _status(c.status),
             "received": chinese_date(c.received_at), "complainant": queries.business_seen(c).name}
            for c in found]
    return page(request, "business_complaints.html", me, nav="business_complaints", rows=rows, total=total,
                page_number=number, pages=pages, previous=_link(number - 1) if number > 1 else None,
                next=_link(number + 1) if number < pages else None)


@router.get("/business/complaints/{complaint_id}")
def complaint_detail(request: Request, product: ProductDep, session: SessionDep, me: SignedInDep,
                     complaint_id: str) -> Response:
    refusal = _refusal(request, me)
    if refusal is not None or me is None:
        return refusal or to_login(request)
    business_id = me.principal.business_id
    complaint = (queries.business_complaint(session, business_id, int(complaint_id))
                 if complaint_id.isdigit() and 1 <= int(complaint_id) <= MAX_ID else None)
    if complaint is None:
        return error_page(request, me, 404, NOT_FOUND_TITLE, NOT_FOUND_TEXT, LIST, "返回本单位投诉件")
    now = product.clock.now()
    calendar = product.deadlines.calendar
    tasks = [{"href": f"/tasks/{t.id}", "title": t.title, "due": chinese_date(t.due_at),
              "state": deadline_state(t.due_at, t.suspended_at is not None, t.provisional, now, calendar)}
             for t in queries.party_open_tasks(session, complaint.id, party_code(business_id))]
    view = public_view(session, complaint, product.runner.specs)
    offer = pending_offer(session, complaint)
    return page(request, "business_complaint.html", me, nav="business_complaints", tasks=tasks,
                complaint={"tracking_no": complaint.tracking_no, "subject": complaint.subject,
                           "status": _status(complaint.status), "description": complaint.description},
                facts=_facts(complaint, view.agency),
                offer={"text": offer.offer, "answer_by": chinese_date(offer.answer_by)} if offer else None,
                timeline=[Entry(when(m.at), m.at.astimezone(SHANGHAI).isoformat(), m.agency or "", m.label, "")
                          for m in view.milestones])


def _facts(complaint: Complaint, handling_agency: str | None) -> list[tuple[str, str]]:
    """基本信息 as (label, value) rows: what ``GET /api/v1/business/complaints/{id}`` answers, in words."""
    seen = queries.business_seen(complaint)
    amount = f"¥{Decimal(complaint.amount):,.2f}" if complaint.amount is not None else ""
    rows = [
        ("投诉编号", complaint.tracking_no),
        ("类型", labels.kind_label(complaint.kind)),
        ("类别", labels.category_label(complaint.category)),
        ("登记时间", when(complaint.received_at)),
        ("承办单位", handling_agency or ""),
        ("投诉人", seen.name),
        ("联系电话", seen.phone or ""),
        ("电子邮箱", seen.email or ""),
        ("被投诉经营者", complaint.business_name),
        ("经营地址", complaint.business_address or ""),
        ("所属平台", complaint.business_platform or ""),
        ("事项", complaint.subject),
        ("涉及金额", amount),
        ("发生日期", chinese_date(complaint.occurred_on)),
    ]
    return [(label, value or "—") for label, value in rows]


# ---- the task page of a business's own user ------------------------------------------------------------


@dataclass(frozen=True)
class TaskParts:
    """What a business user's task page shows besides the task: the business's users (for a hand-over),
    the complaint masked as the business sees it, and the public-safe history."""

    staff: list[queries.StaffMember]
    complaint: queries.TaskComplaint | None
    timeline: list[Entry]


def task_parts(product: Product, session: Session, principal: Principal, view: TaskView) -> TaskParts:
    business_id = principal.business_id
    task = view.task
    complaint = (queries.business_task_complaint(session, task.complaint_id, business_id)
                 if task.complaint_id is not None else None)
    history = public_view(session, complaint.complaint, product.runner.specs).milestones if complaint else []
    timeline = [Entry(when(m.at), m.at.astimezone(SHANGHAI).isoformat(), m.agency or "", m.label, "")
                for m in history]
    return TaskParts(queries.business_staff(session, business_id), complaint, timeline)

