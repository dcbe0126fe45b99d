"""The inbox page (``/tasks``): the agency's open tasks the user's roles may work (a supervisor's:
all of them), soonest deadline first, 50 a page.

It reads what ``GET /api/v1/tasks`` reads (``engine.task_inbox``, from the task index) and adds the
complaint's tracking number, subject and masked complainant name (``web.queries.inbox_context``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from engine.clock import chinese_date
from engine.deadlines.calendar import WorkdayCalendar
from engine.deadlines.ladder import DEFAULT_LADDER, fire_instant
from engine.task_inbox import AssigneeFilter, InboxQuery, inbox_page, workable_lanes
from web import queries
from web.deps import ProductDep, SessionDep
from web.pages.render import error_page, page, to_login
from web.pages.sessions import SignedInDep

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
MAX_PAGE = 1_000_000 // PAGE_SIZE  # the API's largest offset
# filter → (assignee, overdue) of the inbox query; the order is the order of the links
FILTERS: dict[str, tuple[AssigneeFilter, bool | None]] = {
    "": (None, None), "mine": ("me", None), "unassigned": ("unassigned", None), "overdue": (None, True)}
FILTER_LABELS = {"": "全部", "mine": "我的", "unassigned": "未认领", "overdue": "已超期"}
# the reminder rung: a deadline is "due soon" from the moment its reminder would go out
REMINDER = next(rung for rung in DEFAULT_LADDER if rung.step == "reminder")


@dataclass(frozen=True)
class DeadlineState:
    css: str  # tag-… class
    label: str


SUSPENDED = DeadlineState("suspended", "暂停计时")
OVERDUE = DeadlineState("overdue", "已超期")
DUE_SOON = DeadlineState("due-soon", "即将到期")
PROVISIONAL = DeadlineState("provisional", "期限待定")
ON_TIME = DeadlineState("ok", "正常")
NO_DEADLINE = DeadlineState("none", "无期限")


def deadline_state(due_at: datetime | None, suspended: bool, provisional: bool, now: datetime,
                   calendar: WorkdayCalendar) -> DeadlineState:
    """One word for a task's deadline, the most pressing first: a stopped clock, then overdue (past the
    deadline's last instant), due soon (from the start of the working day the reminder goes out: 2
    working days before the last day), provisional (counted on a year whose holidays are not yet
    published, so the date may move), else on time."""
    if suspended:
        return SUSPENDED
    if due_at is None:
        return NO_DEADLINE
    if due_at < now:
        return OVERDUE
    if fire_instant(due_at, REMINDER, calendar) <= now:
        return DUE_SOON
    return PROVISIONAL if provisional else ON_TIME


def _page_number(raw: str | None) -> int:
    """``?page=`` as typed in an address bar: anything but a number in range means the first page."""
    return int(raw) if raw is not None and raw.isdigit() and 1 <= int(raw) <= MAX_PAGE else 1


def _link(filter_key: str, page_number: int = 1) -> str:
    params = {key: value for key, value in (("filter", filter_key), ("page", page_number))
              if value and value != 1}
    return "/tasks" + (f"?{urlencode(params)}" if params else "")


@router.get("/tasks")
def inbox(request: Request, product: ProductDep, session: SessionDep, me: SignedInDep,
          filter_key: Annotated[str | None, Query(alias="filter")] = None,
          page_raw: Annotated[str | None, Query(alias="page")] = None, done: str | None = None) -> Response:
    if me is None:
        return to_login(request)
    agency_code = me.principal.actor.agency_code
    if agency_code is None:
        return error_page(request, me, 403, "无待办任务", "系统管理员账号不属于任何机构，没有待办任务。",
                          "/admin/workflows", "前往流程管理")
    chosen = filter_key if filter_key in FILTERS else ""
    number = _page_number(page_raw)
    assignee, overdue = FILTERS[chosen]
    now = product.clock.now()
    query = InboxQuery(agency_code=agency_code, username=me.principal.user.username, assignee=assignee,
                       overdue=overdue, lanes=workable_lanes(product.runner.tasks.lanes, me.principal.actor),
                       limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE)
    rows, total = inbox_page(session, query, now)
    complaints, names = queries.inbox_context(session, rows)
    calendar = product.deadlines.calendar
    tasks: list[dict[str, Any]] = []
    for row in rows:
        complaint = complaints.get(row.complaint_id) if row.complaint_id is not None else None
        tasks.append({
            "id": row.id, "title": row.title, "complaint": complaint,
            "due": chinese_date(row.due_at),
            "state": deadline_state(row.due_at, row.suspended_at is not None, row.provisional, now, calendar),
            "assignee": names.get(row.assignee, row.assignee) if row.assignee is not None else None,
        })
    pages = max(1, math.ceil(total / PAGE_SIZE))
    return page(request, "tasks.html", me, nav="tasks", tasks=tasks, total=total, page_number=number, pages=pages,
                notice="已提交" if done == "1" else None,  # back from a task page's submission
                filters=[{"label": label, "href": _link(key), "current": key == chosen}
                         for key, label in FILTER_LABELS.items()],
                previous=_link(chosen, number - 1) if number > 1 else None,
                next=_link(chosen, number + 1) if number < pages else None)
