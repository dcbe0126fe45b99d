"""The supervisor's pages (督办): the whole agency's open work by person, its overdue tasks with the
rungs of the escalation ladder they have climbed, and the escalations received from agencies below.

Only for users holding the supervisor role (负责人); anyone else gets a 403 page saying so. Handing a
task to a colleague goes through the same service function as the API (``assign_task``), so the same
rights and the same refusals apply.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import parse_qs, urlencode, urlsplit

from fastapi import APIRouter, Form, Query, Request
from sqlalchemy import Row
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from complaintflow.services import tasks as task_actions
from complaintflow.wiring import Product
from engine.clock import SHANGHAI, chinese_date
from engine.errors import Conflict, EngineError, Forbidden, InvalidInput, NotFound
from engine.task_inbox import InboxQuery, inbox_page
from web import queries
from web import supervision_queries as reads
from web.deps import ProductDep, SessionDep
from web.pages.inbox import REMINDER, deadline_state
from web.pages.render import error_page, page, safe_next, stale_form, to_login
from web.pages.sessions import SignedIn, SignedInDep, same_token

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
MAX_PAGE = 1_000_000 // PAGE_SIZE
UNASSIGNED = "-"  # ``?assignee=-``: the unclaimed tasks
FormText = Annotated[str, Form()]

STEP_NAMES = {"reminder": "到期提醒", "overdue": "超期告知", "escalation": "上报上级督办"}
STEP_DONE = {"reminder": "已发送到期提醒", "overdue": "已发送超期告知", "escalation": "已上报上级督办"}
ASSIGNED = "已转交"
ASSIGN_REFUSED = {
    NotFound: (404, "该任务已办结或不存在，请刷新页面后查看"),
    Forbidden: (403, "您无权转交该任务"),
    Conflict: (409, "任务刚刚发生了变化，请刷新页面后重试"),
}
CANNOT_WORK = "所选同事不能办理该任务，请另选"
CHOOSE = "请选择要转交的同事"


def chinese_datetime(value: datetime) -> str:
    """``2026年11月28日 09:30`` in China's time zone."""
    moment = value.astimezone(SHANGHAI)
    return f"{chinese_date(moment)} {moment:%H:%M}"


def _page_number(raw: str | None) -> int:
    return int(raw) if raw is not None and raw.isdigit() and 1 <= int(raw) <= MAX_PAGE else 1


def _href(path: str, **params: str | int | None) -> str:
    kept = {key: value for key, value in params.items() if value not in (None, "", 1)}
    return path + (f"?{urlencode(kept)}" if kept else "")


def _supervisor(request: Request, me: SignedIn | None) -> SignedIn | Response:
    """The signed-in supervisor, or the answer for anyone else: signed out → sign in; no supervisor role
    (or no agency) → 403."""
    if me is None:
        return to_login(request)
    if not me.principal.is_staff or "supervisor" not in me.principal.user.roles:
        return error_page(request, me, 403, "无权访问", "督办页面仅供本单位负责人使用。如需查看，请联系本单位负责人。",
                          "/tasks", "返回待办任务")
    return me


def _pager(path: str, number: int, total: int, **params: str | None) -> dict[str, Any]:
    pages = max(1, math.ceil(total / PAGE_SIZE))
    return {"page_number": number, "pages": pages,
            "previous": _href(path, **params, page=number - 1) if number > 1 else None,
            "next": _href(path, **params, page=number + 1) if number < pages else None}


def _task_rows(session: Session, product: Product, rows: list[Row[Any]], now: datetime) -> list[dict[str, Any]]:
    """Inbox rows as the pages show them: complaint (masked), deadline in words, assignee's name."""
    complaints, names = queries.inbox_context(session, rows)
    calendar = product.deadlines.calendar
    return [{
        "id": row.id, "title": row.title, "lane": row.lane, "assignee_username": row.assignee,
        "complaint": complaints.get(row.complaint_id) if row.complaint_id is not None else None,
        "due": chinese_date(row.due_at), "due_at": row.due_at,
        "state": deadline_state(row.due_at, row.suspended_at is not None, row.provisional, now, calendar),
        "assignee": names.get(row.assignee, row.assignee) if row.assignee is not None else None,
        "requested": chinese_date(row.created_at),
    } for row in rows]


# ---------------------------------------------------------------- 本单位全部


@router.get("/supervision")
def agency_work(request: Request, product: ProductDep, session: SessionDep, me: SignedInDep,
                assignee: Annotated[str | None, Query(max_length=100)] = None,
                page_raw: Annotated[str | None, Query(alias="page")] = None,
                done: str | None = None) -> Response:
    who = _supervisor(request, me)
    if isinstance(who, Response):
        return who
    notice = ASSIGNED if done == "assigned" else None
    return _agency_page(request, product, session, who, assignee, _page_number(page_raw), notice=notice)


def _agency_page(request: Request, product: Product, session: Session, me: SignedIn, chosen: str | None,
                 number: int, *, notice: str | None = None, status: int = 200,
                 errors: dict[str, str] | None = None, typed: dict[str, str] | None = None) -> Response:
    agency_code = me.principal.actor.agency_code or ""
    agency_id = me.principal.agency_id
    now = product.clock.now()
    calendar = product.deadlines.calendar
    people = reads.colleagues(session, agency_id)
    by_name = {p.username: p for p in people}
    counts = reads.workload(session, agency_code, now, reads.due_soon_before(now, REMINDER, calendar))

    # everyone of the agency who works tasks, then anyone else holding tasks (moved or deactivated)
    workers = [p.username for p in people if p.active and p.roles - {"admin"}]
    holders = sorted(a for a in counts if a is not None and a not in workers)
    names = {**{p.username: p.display_name for p in people},
             **reads.display_names(session, [h for h in holders if h not in by_name])}
    summary = []
    for username in [*workers, *holders, None]:
        load = counts.get(username) or reads.Workload(username)
        key = username if username is not None else UNASSIGNED
        person = by_name.get(username) if username is not None else None
        summary.append({
            "name": names.get(username, username) if username is not None else "未认领",
            "note": "" if username is None or (person is not None and person.active) else "（已停用或已调离）",
            "unassigned": username is None, "open": load.open, "overdue": load.overdue, "due_soon": load.due_soon,
            "href": _href("/supervision", assignee=key) + "#tasks", "current": chosen == key,
        })
    totals = {"open": sum(c.open for c in counts.values()), "overdue": sum(c.overdue for c in counts.values()),
              "due_soon": sum(c.due_soon for c in counts.values())}

    requests = _task_rows(session, product, reads.extension_requests(session, agency_code), now)

    selected = chosen if chosen == UNASSIGNED or chosen in names else None
    query = InboxQuery(agency_code=agency_code, username=None if selected == UNASSIGNED else selected,
                       assignee=None if selected is None else "unassigned" if selected == UNASSIGNED else "me",
                       limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE)
    rows, total = inbox_page(session, query, now)
    tasks = _task_rows(session, product, rows, now)
    policy = product.runner.tasks.lanes
    choices: dict[str | None, list[dict[str, str]]] = {}
    for task in tasks:
        lane = task["lane"]
        if lane not in choices:
            choices[lane] = [{"username": p.username, "display_name": p.display_name}
                             for p in reads.who_may_work(people, agency_code, lane, policy)]
        task["choices"] = [c for c in choices[lane] if c["username"] != task["assignee_username"]]
    here = _href("/supervision", assignee=selected, page=number)
    listed = {task["id"] for task in tasks}
    errors = errors or {}
    # a refusal for a task no longer in this list (completed meanwhile) has no select to point to
    problem = next((message for task_id, message in errors.items() if task_id not in listed), None)
    errors = {task_id: message for task_id, message in errors.items() if task_id in listed}
    heading = ("全部在办任务" if selected is None else "未认领的任务" if selected == UNASSIGNED
               else f"{names.get(selected, selected)}的任务")
    return page(request, "supervision.html", me, status, nav="supervision", summary=summary, totals=totals,
                requests=requests, tasks=tasks, total=total, heading=heading, notice=notice, here=here,
                all_href=_href("/supervision") + "#tasks", filtered=selected is not None,
                errors=errors, typed=typed or {}, problem=problem,
                error_list=[{"target": f"assign-{task_id}", "message": message} for task_id, message in errors.items()],
                **_pager("/supervision", number, total, assignee=selected))


@router.post("/supervision/tasks/{task_id}/assign")
def reassign(request: Request, task_id: str, product: ProductDep, session: SessionDep, me: SignedInDep,
             csrf_token: FormText = "", username: FormText = "", back: FormText = "") -> Response:
    """Hand a task to a colleague, then back to the list it was handed from (PRG); a refusal shows the
    list again with the reason beside the task's select."""
    who = _supervisor(request, me)
    if isinstance(who, Response):
        return who
    target = safe_next(back) or "/supervision"
    where = urlsplit(target)
    if where.path != "/supervision":  # this form only ever returns to the list it is on
        target, where = "/supervision", urlsplit("/supervision")
    if not same_token(who.session.csrf, csrf_token):
        return stale_form(request, who, target)
    chosen = username.strip()
    status, message = 422, CHOOSE
    if chosen:
        session.rollback()  # end this request's read before the write
        try:
            task_actions.assign_task(product, task_id, chosen, who.principal.actor)
        except InvalidInput:
            message = CANNOT_WORK
        except EngineError as error:
            status, message = next(((s, m) for kind, (s, m) in ASSIGN_REFUSED.items() if isinstance(error, kind)),
                                   (409, "操作未执行，请稍后重试"))
        else:
            return RedirectResponse(_with_done(target), status_code=303)
    kept = {key: values[0] for key, values in parse_qs(where.query).items()}
    return _agency_page(request, product, session, who, kept.get("assignee"), _page_number(kept.get("page")),
                        status=status, errors={task_id: message}, typed={task_id: chosen})


def _with_done(target: str) -> str:
    return target + ("&" if "?" in target else "?") + "done=assigned"


# ---------------------------------------------------------------- 超期督办


@router.get("/supervision/overdue")
def overdue(request: Request, product: ProductDep, session: SessionDep, me: SignedInDep,
            page_raw: Annotated[str | None, Query(alias="page")] = None) -> Response:
    who = _supervisor(request, me)
    if isinstance(who, Response):
        return who
    number = _page_number(page_raw)
    now = product.clock.now()
    calendar = product.deadlines.calendar
    query = InboxQuery(agency_code=who.principal.actor.agency_code or "", overdue=True, limit=PAGE_SIZE,
                       offset=(number - 1) * PAGE_SIZE)
    rows, total = inbox_page(session, query, now)  # the earliest deadline first: the most overdue
    tasks = _task_rows(session, product, rows, now)
    steps = reads.deadline_steps(session, rows)
    told = reads.display_names(session, {r for s in steps.values() for f in s.fired for r in f.recipients})
    for task, row in zip(tasks, rows, strict=True):
        days = reads.working_days_overdue(row.due_at, now, calendar)
        task["overdue_days"] = f"超期 {days} 个工作日" if days else "超期不足 1 个工作日"
        entry = steps.get(row.id, reads.TaskSteps())
        task["fired"] = [{"label": STEP_DONE.get(f.step, f.step), "at": chinese_datetime(f.at),
                          "to": "、".join(told.get(r, r) for r in f.recipients)} for f in entry.fired]
        task["pending"] = [{"label": STEP_NAMES.get(step, step), "at": chinese_datetime(at)}
                           for step, at in entry.pending]
    return page(request, "supervision_overdue.html", who, nav="overdue", tasks=tasks, total=total,
                **_pager("/supervision/overdue", number, total))


# ---------------------------------------------------------------- 收到的督办


@router.get("/supervision/escalations")
def escalations(request: Request, product: ProductDep, session: SessionDep, me: SignedInDep,
                page_raw: Annotated[str | None, Query(alias="page")] = None) -> Response:
    who = _supervisor(request, me)
    if isinstance(who, Response):
        return who
    number = _page_number(page_raw)
    agency_id = who.principal.agency_id
    now = product.clock.now()
    calendar = product.deadlines.calendar
    found, total = reads.received_escalations(session, agency_id, PAGE_SIZE, (number - 1) * PAGE_SIZE)
    still_open = reads.open_tasks(session, {e.task_id for e in found if e.task_id is not None})
    agencies = reads.agency_names(session, {e.from_agency for e in found if e.from_agency is not None})
    complaints = reads.complaint_refs(session, {e.complaint_id for e in found if e.complaint_id is not None},
                                      agency_id)
    told = reads.display_names(session, {r for e in found for r in e.recipients}
                               | {t.assignee for t in still_open.values() if t.assignee})
    items = []
    for escalation in found:
        task = still_open.get(escalation.task_id) if escalation.task_id is not None else None
        complaint = complaints.get(escalation.complaint_id) if escalation.complaint_id is not None else None
        if task is not None:
            state = deadline_state(task.due_at, task.suspended_at is not None, task.provisional, now, calendar)
            holder = told.get(task.assignee, task.assignee) if task.assignee else "未认领"
            status = {"open": True, "tag": state, "text": f"仍未办结（{holder}）"}
        else:
            status = {"open": False, "tag": None, "text": "已办结或已转出"}
        items.append({
            "received": chinese_datetime(escalation.received_at), "subject": escalation.subject,
            "agency": agencies.get(escalation.from_agency, escalation.from_agency) if escalation.from_agency else "",
            "title": task.title if task is not None else None,
            "task_href": f"/tasks/{task.id}" if task is not None and task.agency_code == who.principal.actor.agency_code
            else None,
            "complaint": complaint, "complaint_href": f"/complaints/{escalation.complaint_id}"
            if complaint is not None and complaint.visible else None,
            "due": chinese_date(escalation.due_at), "status": status,
            "told": "、".join(told.get(r, r) for r in escalation.recipients),
        })
    return page(request, "supervision_escalations.html", who, nav="escalations", items=items, total=total,
                **_pager("/supervision/escalations", number, total))
