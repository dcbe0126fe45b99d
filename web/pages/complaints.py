"""The complaint pages: the search (``/complaints``) and a complaint's file (``/complaints/{id}``), whose
process ``web/static/diagram.js`` draws from ``/complaints/{id}/diagram.json``.

Both read what the API reads (``web.queries``): only complaints the user's agency is involved in, and
another agency's complaint answers 404 like a missing one. The list masks the complainant for everyone;
the file shows the personal data exactly as ``GET /api/v1/complaints/{id}`` does for the agency's part
in the complaint. Everything but the diagram works without JavaScript, and the time limits the diagram
marks (the mediation time limit) are written out on the page as well.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.encoders import jsonable_encoder
from sqlalchemy.orm import Session
from starlette.responses import JSONResponse, RedirectResponse, Response

from agencies import labels
from agencies.complaints import acceptance_tasks, designation_choice, platform_regulator, supervised_complaint
from agencies.intake import EARLIEST_DATE, LATEST_DATE
from agencies.masking import mask_name
from agencies.regions import ancestors, region_name
from agencies.tables import Agency, Complaint
from complaintflow.services import jurisdiction
from complaintflow.wiring import Product
from engine.clock import chinese_date
from engine.errors import Conflict, EngineError, Forbidden, InvalidInput, NotFound
from web import queries
from web.deps import MAX_ID, ProductDep, SessionDep
from web.form_fields import chinese_part
from web.pages import complaint_archive, complaint_documents, complaint_files
from web.pages.inbox import deadline_state
from web.pages.render import error_page, page, staff_only, stale_form, to_login
from web.pages.sessions import SignedIn, SignedInDep, same_token
from web.pages.timeline import timeline_for, when

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
MAX_PAGE = 1_000_000 // PAGE_SIZE  # the API's largest offset
MAX_QUERY = 100  # as the API's q
DATE_LABELS = {"received_from": "登记日期（起）", "received_to": "登记日期（止）"}
NOT_FOUND_TITLE = "未找到投诉件"
NOT_FOUND_TEXT = "该投诉件不存在，或本单位未参与办理，无权查看。"
DONE = {"designated": "已指定管辖，受理审查任务已转至指定的市场监管部门"}
DESIGNATION_FIELDS = {"agency": "designate-agency", "reason": "designate-reason"}  # service field → input id


@dataclass(frozen=True)
class Criteria:
    """The search form as typed (kept in the form and in the paging links)."""

    q: str = ""
    status: str = ""
    received_from: str = ""
    received_to: str = ""

    def link(self, page_number: int = 1) -> str:
        params = {key: value for key, value in (("q", self.q), ("status", self.status),
                                                ("received_from", self.received_from),
                                                ("received_to", self.received_to)) if value}
        if page_number > 1:
            params["page"] = str(page_number)
        return "/complaints" + (f"?{urlencode(params)}" if params else "")


@dataclass(frozen=True)
class Problem:
    field: str  # the input's id
    message: str


def _page_number(raw: str | None) -> int:
    """``?page=`` as typed in an address bar: anything but a number in range means the first page."""
    return int(raw) if raw is not None and raw.isdigit() and 1 <= int(raw) <= MAX_PAGE else 1


def _day(raw: str, field: str, problems: list[Problem]) -> date | None:
    """A ``YYYY-MM-DD`` date (what ``<input type="date">`` sends) in the product's range; else a problem."""
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        problems.append(Problem(field, f"{DATE_LABELS[field]}不是有效的日期，请按 2026-11-18 的格式填写"))
        return None
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        problems.append(Problem(field, f"{DATE_LABELS[field]}须在 {chinese_date(EARLIEST_DATE)} 至 "
                                       f"{chinese_date(LATEST_DATE)} 之间"))
        return None
    return day


def _agency_id(me: SignedIn) -> int | None:
    return me.principal.user.agency_id


@router.get("/complaints")
def search(request: Request, session: SessionDep, me: SignedInDep, q: str | None = None, status: str | None = None,
           received_from: str | None = None, received_to: str | None = None,
           page_raw: Annotated[str | None, Query(alias="page")] = None) -> Response:
    if me is None:
        return to_login(request)
    agency_id = _agency_id(me)
    if agency_id is None:
        return staff_only(request, me, "无法查询投诉件", "查询投诉件")
    chosen = status if status is not None and status in labels.STATUS_LABELS else ""
    criteria = Criteria((q or "").strip(), chosen, (received_from or "").strip(), (received_to or "").strip())
    problems: list[Problem] = []
    if len(criteria.q) > MAX_QUERY:
        problems.append(Problem("q", f"查询内容最多 {MAX_QUERY} 个字"))
    start = _day(criteria.received_from, "received_from", problems)
    end = _day(criteria.received_to, "received_to", problems)
    if start and end and end < start:
        problems.append(Problem("received_to", "登记日期（止）不能早于登记日期（起）"))
    context: dict[str, Any] = {
        "nav": "complaints", "criteria": criteria, "statuses": labels.status_choices(), "problems": problems,
        "errors": {"q": "", **dict.fromkeys(DATE_LABELS, ""), **{p.field: p.message for p in problems}},
        "date_min": EARLIEST_DATE.isoformat(), "date_max": LATEST_DATE.isoformat(), "rows": [], "total": 0,
        "page_number": 1, "pages": 1, "previous": None, "next": None, "searched": False}
    if problems:
        return page(request, "complaints.html", me, 422, **context)
    number = _page_number(page_raw)
    search_for = queries.ComplaintSearch(labels.same_status(chosen) if chosen else None, None, criteria.q or None,
                                         start, end)
    found, total = queries.search_complaints(session, agency_id, search_for, limit=PAGE_SIZE,
                                             offset=(number - 1) * PAGE_SIZE)
    names = queries.agency_names(session)
    pages = max(1, math.ceil(total / PAGE_SIZE))
    context.update(rows=[_row(c, names) for c in found], total=total, page_number=number, pages=pages,
                   previous=criteria.link(number - 1) if number > 1 else None,
                   next=criteria.link(number + 1) if number < pages else None,
                   searched=criteria != Criteria())
    return page(request, "complaints.html", me, **context)


def _row(complaint: Complaint, names: queries.AgencyNames) -> dict[str, Any]:
    handler = complaint.competent_agency_id or complaint.received_by_id
    return {"id": complaint.id, "tracking_no": complaint.tracking_no, "subject": complaint.subject,
            "complainant": mask_name(complaint.complainant_name), "business": complaint.business_name,
            "status": _status(complaint.status), "received": chinese_date(complaint.received_at),
            "agency": names.by_id.get(handler, "")}


def _status(status: str) -> dict[str, str]:
    return {"label": labels.status_label(status), "tone": labels.status_tone(status)}


def _visible(session: Session, me: SignedIn, raw_id: str) -> Complaint | None:
    """The complaint if the user's agency is involved in it; ``None`` for a missing one, another
    agency's, or an id that cannot exist."""
    agency_id = _agency_id(me)
    if agency_id is None or not raw_id.isdigit() or not 1 <= int(raw_id) <= MAX_ID:
        return None
    try:
        return queries.visible_complaint(session, int(raw_id), agency_id)
    except NotFound:  # a supervisor of the supervising agency sees it too, to designate it (指定管辖)
        return supervised_complaint(session, int(raw_id), me.principal.actor)


@dataclass
class Designating:
    """The 指定管辖 form as posted: what was typed, the messages beside its fields, or why it was refused."""

    status: int = 200
    values: dict[str, str] | None = None
    errors: dict[str, str] | None = None
    problem: str | None = None


@router.get("/complaints/{complaint_id}")
def detail(request: Request, product: ProductDep, session: SessionDep, me: SignedInDep,
           complaint_id: str, done: str | None = None) -> Response:
    if me is None:
        return to_login(request)
    return _show(request, product, session, me, complaint_id, Designating(), DONE.get(done or ""))


@router.post("/complaints/{complaint_id}/designate")
def designate(request: Request, product: ProductDep, session: SessionDep, me: SignedInDep, complaint_id: str,
              csrf_token: Annotated[str, Form()] = "", agency: Annotated[str, Form()] = "",
              reason: Annotated[str, Form()] = "") -> Response:
    """指定管辖 from the complaint page: the same service as ``POST /api/v1/complaints/{id}/designate``."""
    if me is None:
        return to_login(request)
    if not same_token(me.session.csrf, csrf_token):
        return stale_form(request, me, f"/complaints/{complaint_id}")
    typed = {"agency": agency, "reason": reason}
    if _visible(session, me, complaint_id) is None:
        return error_page(request, me, 404, NOT_FOUND_TITLE, NOT_FOUND_TEXT, "/complaints", "返回投诉件查询")
    session.rollback()  # end this request's read before the write
    try:
        jurisdiction.designate(product, int(complaint_id), agency, reason, me.principal.actor)
    except InvalidInput as error:
        errors = {e.field: chinese_part(e.message) for e in error.errors}
        outcome = Designating(422, typed, errors)
    except (Forbidden, Conflict) as error:
        outcome = Designating(403 if isinstance(error, Forbidden) else 409, typed,
                              problem="未能指定管辖：" + chinese_part(str(error)))
    except EngineError:  # NotFound, or a workflow that refused the change: nothing was saved
        return error_page(request, me, 404, NOT_FOUND_TITLE, NOT_FOUND_TEXT, "/complaints", "返回投诉件查询")
    else:
        return RedirectResponse(f"/complaints/{complaint_id}?done=designated", status_code=303)
    session.rollback()
    return _show(request, product, session, me, complaint_id, outcome, None)


def _designation(session: Session, complaint: Complaint, me: SignedIn, outcome: Designating) -> dict[str, Any] | None:
    """The 指定管辖 form, for a supervisor of the supervising agency while the acceptance decision is open."""
    choice = designation_choice(session, complaint, me.principal.actor)
    if choice is None or not acceptance_tasks(session, complaint):
        return None if outcome.problem is None else {"targets": [], "holder": "", "values": {}, "errors": {},
                                                      "problem": outcome.problem, "ids": DESIGNATION_FIELDS}
    return {"targets": [(a.code, a.name) for a in choice.targets], "holder": choice.holder.name,
            "values": outcome.values or {"agency": "", "reason": ""}, "errors": outcome.errors or {},
            "problem": outcome.problem, "ids": DESIGNATION_FIELDS}


def _show(request: Request, product: Product, session: Session, me: SignedIn, complaint_id: str,
          outcome: Designating, notice: str | None) -> Response:
    agency_id = _agency_id(me)
    if agency_id is None:
        return staff_only(request, me, "无法查看投诉件", "查看投诉件")
    complaint = _visible(session, me, complaint_id)
    if complaint is None:
        return error_page(request, me, 404, NOT_FOUND_TITLE, NOT_FOUND_TEXT, "/complaints", "返回投诉件查询")
    now = product.clock.now()
    seen = queries.complaint_detail(session, complaint, now, agency_id)
    names = queries.agency_names(session)
    tasks = seen["current_tasks"]
    people = queries.display_names(session, {t["assignee"] for t in tasks if t["assignee"]})
    calendar = product.deadlines.calendar
    own_agency = me.principal.actor.agency_code
    task_rows = [{
        "title": t["title"], "href": f"/tasks/{t['id']}" if t["agency_code"] == own_agency else None,
        "agency": names.by_code.get(t["agency_code"] or "", ""),
        "assignee": people.get(t["assignee"], t["assignee"]) if t["assignee"] else None,
        "period": labels.deadline_label(t["deadline_rule"]) if t["due_at"] else "",
        "due": chinese_date(t["due_at"]),
        "state": deadline_state(t["due_at"], t["suspended"], t["provisional"], now, calendar),
    } for t in tasks]
    dated = [(t["due_at"], row) for t, row in zip(tasks, task_rows, strict=True) if t["due_at"] is not None]
    soonest = min(dated, key=lambda pair: pair[0])[1] if dated else None
    timers = [f"{t['label']}：{chinese_date(t['due_at'])}"
              for t in queries.complaint_timers(session, product.specs, complaint)]
    handler = complaint.competent_agency_id or complaint.received_by_id
    designation = _designation(session, complaint, me, outcome)
    return page(
        request, "complaint.html", me, outcome.status, nav="complaints", notice=notice, designation=designation,
        complaint={"id": complaint.id, "tracking_no": complaint.tracking_no, "subject": complaint.subject,
                   "status": _status(complaint.status), "agency": names.by_id.get(handler, ""),
                   "description": complaint.description},
        deadline=soonest, timers=timers, facts=_facts(seen, complaint, names, platform_regulator(session, complaint)),
        timeline=timeline_for(session, complaint, agency_id), tasks=task_rows,
        cases=[{"case_no": c["case_no"], "status": labels.case_status_label(c["status"]),
                "decision": labels.case_decision_label(c["decision"]),
                "agency": names.by_code.get(c["agency_code"], ""), "filed": chinese_date(c["filed_at"])}
               for c in seen["cases"]],
        diagram_url=f"/complaints/{complaint.id}/diagram.json",
        attachments=complaint_files.attachments_context(request, product, session, complaint.id, me),
        archive=complaint_archive.context(session, complaint, me),
        documents=complaint_documents.documents_context(session, complaint.id, agency_id))


def _facts(seen: dict[str, Any], complaint: Complaint, names: queries.AgencyNames,
           platform_agency: Agency | None) -> list[tuple[str, str]]:
    """基本信息 as (label, value) rows; the personal data as ``queries.complaint_detail`` shows it to this
    agency (whole or masked by its part in the complaint)."""
    involved = "、".join(f"{names.by_code.get(code, code)}（{labels.involvement_label(role)}）"
                         for code, role in seen["involved_agencies"].items())
    amount = f"¥{Decimal(seen['amount']):,.2f}" if seen["amount"] is not None else ""
    rows = [
        ("投诉编号", complaint.tracking_no),
        ("类型", labels.kind_label(complaint.kind)),
        ("类别", labels.category_label(complaint.category)),
        ("登记时间", when(complaint.received_at)),
        ("登记单位", names.by_id.get(complaint.received_by_id, "")),
        ("承办单位", names.by_id.get(complaint.competent_agency_id, "") if complaint.competent_agency_id else ""),
        ("参与单位", involved),
        ("投诉人", seen["complainant_name"]),
        ("联系电话", seen["complainant_phone"]),
        ("身份证号码", seen["complainant_id_number"] or ""),
        ("电子邮箱", seen["complainant_email"] or ""),
        ("被投诉经营者", seen["business_name"]),
        ("统一社会信用代码", seen["business_uscc"] or ""),
        ("经营者所在地区", _region(seen["business_region_code"])),
        ("经营地址", seen["business_address"] or ""),
        ("所属平台", seen["business_platform"] or ""),
        *([("平台经营者统一社会信用代码", complaint.business_platform_uscc),
           ("平台所在地市场监管部门", platform_agency.name if platform_agency else "未能确定")]
          if complaint.business_platform_uscc else []),
        ("事项", complaint.subject),
        ("涉及金额", amount),
        ("发生日期", chinese_date(seen["occurred_on"])),
    ]
    return [(label, value or "—") for label, value in rows]


def _region(code: str) -> str:
    """安徽省阜阳市太和县 (the province, prefecture and county of a GB/T 2260 code)."""
    parts = [region_name(c) or "" for c in (*reversed(ancestors(code)), code)]
    return "".join(parts) or code


@router.get("/complaints/{complaint_id}/diagram.json")
def diagram(product: ProductDep, session: SessionDep, me: SignedInDep, complaint_id: str) -> Response:
    """The complaint's process diagram and where it stands, for ``diagram.js`` on the complaint page: the same
    read as ``GET /api/v1/complaints/{id}/diagram``, with the page's session cookie instead of a token."""
    if me is None:
        return JSONResponse({"detail": "未登录或登录已过期"}, status_code=401)
    complaint = _visible(session, me, complaint_id)
    if complaint is None:
        return JSONResponse({"detail": "未找到"}, status_code=404)
    try:
        answer = queries.complaint_diagram(session, product.specs, complaint)
    except NotFound:
        return JSONResponse({"detail": "未找到"}, status_code=404)
    return JSONResponse(jsonable_encoder(answer))
