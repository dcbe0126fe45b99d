"""The task page (``/tasks/{id}``): the complaint in brief and its history beside the task's form, and
the task's actions — claim, release, hand to a colleague, stop and restart its clock, submit.

The page reads the task as ``GET /api/v1/tasks/{id}`` does (``runner.task_view``: another agency's task
is a 404 like a missing one) and writes through the same service functions as the API, so the rights
are the runner's: the page only leaves out the buttons the user could not use, and says in Chinese what
the runner refused when a page was stale (a colleague claimed the task meanwhile, say).

The form is rendered from the task's JSON Schema (``web.form_fields``); a submission the form's check
refuses comes back with status 422, the answers kept, an error summary linking to each field and the
message beside it. After a submission the user goes on to the next task if the workflow opened one they
may work, else back to the inbox.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from agencies.complaints import platform_regulator
from agencies.tables import Agency
from complaintflow.services import tasks as task_actions
from complaintflow.wiring import Product
from engine.clock import chinese_date
from engine.errors import Conflict, EngineError, FieldError, Forbidden, InvalidInput, NotFound
from engine.runner import Actor, TaskView
from web import queries
from web.deps import ProductDep, SessionDep
from web.form_fields import (
    NOT_OWN_AGENCY,
    FormField,
    Problem,
    chinese_part,
    field_problems,
    form_fields,
    parse_submission,
)
from web.pages import business
from web.pages.inbox import deadline_state
from web.pages.render import ROLE_NAMES, error_page, page, stale_form, to_login
from web.pages.sessions import SESSION_COOKIE, SignedIn, SignedInDep, end_session_cookie, same_token
from web.pages.timeline import timeline_for

router = APIRouter(include_in_schema=False)

FormText = Annotated[str, Form()]
MAX_REASON = 500  # what the clock's reason may hold (engine.deadlines.suspension)
# ?done= after an action (post/redirect/get): what the page then says happened
DONE = {"completed": "已提交，请继续办理下一项任务", "claimed": "已领取该任务",
        "released": "已释放该任务，本单位同事可以领取", "assigned": "已转交", "suspended": "已暂停计时",
        "resumed": "已恢复计时"}
ASSIGN_FIELD = "assign-username"
SUSPEND_FIELD = "suspend-reason"
RESUME_FIELD = "resume-reason"
_HAN = re.compile(r"[\u4e00-\u9fff]")


@dataclass
class Outcome:
    """What the page shows besides the task itself: the answers and errors of a refused form, a refusal,
    or what an action just did."""

    status: int = 200
    values: dict[str, str] = field(default_factory=dict)  # the completion form's answers as typed
    errors: list[FieldError] = field(default_factory=list)  # the completion form's field errors
    action_errors: dict[str, str] = field(default_factory=dict)  # action field id → message
    action_values: dict[str, str] = field(default_factory=dict)
    problem: str | None = None
    notice: str | None = None


@dataclass(frozen=True)
class Rights:
    """The actions the user may take on the task, by the runner's rules (``runner.tasks``)."""

    work: bool  # the lane is theirs
    claim: bool
    release: bool
    assign: bool
    suspend: bool
    resume: bool
    complete: bool


def rights_of(product: Product, task: Any, actor: Actor) -> Rights:
    lanes = product.runner.tasks.lanes
    work = lanes.may_work(actor, task.lane)
    others = lanes.acts_for_others(actor)
    mine = task.assignee == actor.username
    unclaimed = task.assignee is None
    suspended = task.suspended_at is not None
    clock = work and (unclaimed or mine or others)
    return Rights(work=work, claim=work and unclaimed, release=not unclaimed and (mine or others),
                  assign=mine or others, suspend=clock and not suspended and task.due_at is not None,
                  resume=clock and suspended,
                  # a colleague's task is read-only: a supervisor hands it over (to themselves too) first
                  complete=work and (unclaimed or mine) and not suspended)


# ---- showing the task ---------------------------------------------------------------------------------


@router.get("/tasks/{task_id}")
def task_page(request: Request, task_id: str, product: ProductDep, session: SessionDep, me: SignedInDep,
              done: str | None = None) -> Response:
    if me is None:
        return to_login(request)
    return show(request, product, session, me, task_id, Outcome(notice=DONE.get(done or "")))


def show(request: Request, product: Product, session: Session, me: SignedIn, task_id: str,
         outcome: Outcome) -> Response:
    actor = me.principal.actor
    try:
        view = product.runner.task_view(session, task_id, actor)
    except NotFound:
        return not_found(request, me)
    except Conflict:  # the agency completed it already: a stale page, the back button
        return error_page(request, me, 409 if outcome.status >= 400 else 410, "任务已办结",
                          "该任务已经办结，无需再办理。", "/tasks", "返回待办任务")
    return page(request, "task.html", me, outcome.status, nav="tasks",
                **task_context(product, session, me, view, outcome))


def task_context(product: Product, session: Session, me: SignedIn, view: TaskView, outcome: Outcome) -> dict[str, Any]:
    task, actor = view.task, me.principal.actor
    now = product.clock.now()
    rights = rights_of(product, task, actor)
    # a business's own user: its clock is the time it has to answer the complainant, not its to stop
    party = None if me.principal.is_staff else business.task_parts(product, session, me.principal, view)
    rights = rights if party is None else replace(rights, suspend=False)
    fields = form_fields(view.definition.form if view.definition else None) if rights.complete else []
    beside, summary = field_problems(fields, outcome.errors)
    summary += [Problem(message, target) for target, message in outcome.action_errors.items()]
    staff = party.staff if party else queries.agency_staff(session, me.principal.agency_id)
    names = {member.username: member.display_name for member in staff}
    colleagues = [member for member in staff if member.username != task.assignee and rights.assign
                  and product.runner.tasks.lanes.may_work(Actor(member.username, task.agency_code,
                                                                frozenset(member.roles)), task.lane)]
    if party is not None:  # the complaint masked as the business may see it, the public-safe history
        complaint, timeline = party.complaint, party.timeline
    else:
        agency_id = me.principal.agency_id
        complaint = queries.task_complaint(session, task.complaint_id, agency_id) if task.complaint_id else None
        timeline = timeline_for(session, complaint.complaint, agency_id) if complaint else []
    # a time limit kept by a timer of the process (the mediation period), not by the task's own deadline
    timers = [(timer["label"], chinese_date(timer["due_at"]))
              for timer in queries.complaint_timers(session, product.specs, complaint.complaint)] if complaint else []
    platform = platform_of(session, complaint)
    return {
        "task": task, "due": chinese_date(task.due_at),
        "state": deadline_state(task.due_at, task.suspended_at is not None, task.provisional, now,
                                product.deadlines.calendar),
        "assignee": names.get(task.assignee, task.assignee) if task.assignee else None,
        "mine": task.assignee == actor.username, "lane_role": ROLE_NAMES.get(task.lane or "", task.lane or ""),
        "rights": rights, "fields": fields, "values": outcome.values, "beside": beside, "summary": summary,
        "action_errors": outcome.action_errors, "action_values": outcome.action_values,
        "problem": outcome.problem, "notice": outcome.notice, "colleagues": colleagues, "me_username": actor.username,
        "agencies": suggested_agencies(session, view, actor, platform) if any(f.agency_code for f in fields) else [],
        "complaint": complaint, "timeline": timeline, "timers": timers, "platform": platform,
    }


@dataclass(frozen=True)
class Platform:
    """The e-commerce platform a complaint names: its operator and the regulator where it is registered."""

    name: str
    uscc: str | None
    regulator: Agency | None


@dataclass(frozen=True)
class Suggestion:
    code: str
    name: str


def platform_of(session: Session, complaint: queries.TaskComplaint | None) -> Platform | None:
    """``complaint`` is ``queries.task_complaint``'s answer; ``None`` when the complaint names no platform."""
    row = complaint.complaint if complaint is not None else None
    if row is None or not (row.business_platform or row.business_platform_uscc):
        return None
    return Platform(row.business_platform or "", row.business_platform_uscc, platform_regulator(session, row))


def suggested_agencies(session: Session, view: TaskView, actor: Actor, platform: Platform | None) -> list[Any]:
    """The agency codes offered in the form's agency fields, the user's own left out. A form that routes the
    complaint to another agency (a field marked ``x-not-own-agency``, such as a transfer) offers the
    platform's regulator first (Order 20 art. 12), so the complaint reaches it in one step."""
    agencies: list[Any] = [a for a in queries.active_agencies(session) if a.code != actor.agency_code]
    regulator = platform.regulator if platform is not None else None
    if regulator is None or regulator.code == actor.agency_code or not routes_elsewhere(view):
        return agencies
    first = Suggestion(regulator.code, f"{regulator.name}（平台所在地）")
    return [first, *(a for a in agencies if a.code != regulator.code)]


def routes_elsewhere(view: TaskView) -> bool:
    form = view.definition.form if view.definition else None
    properties = form.get("properties") if isinstance(form, dict) else None
    return isinstance(properties, dict) and any(
        isinstance(spec, dict) and spec.get(NOT_OWN_AGENCY) is True for spec in properties.values())


def not_found(request: Request, me: SignedIn) -> Response:
    return error_page(request, me, 404, "任务不存在", "未找到该任务。", "/tasks", "返回待办任务")


# ---- acting on it -------------------------------------------------------------------------------------


def login_first(request: Request, task_id: str) -> Response:
    """A form posted without a session: sign in, then back to the task (not to the POST's address)."""
    response = RedirectResponse("/login?next=" + quote(f"/tasks/{task_id}", safe="/"), status_code=303)
    if SESSION_COOKIE in request.cookies:
        end_session_cookie(response, request)
    return response


def said(error: EngineError, fallback: str) -> str:
    """The runner's own words when it has Chinese ones (``中文 / English``), else ``fallback``."""
    message = str(error)
    return chinese_part(message) if _HAN.search(message) else fallback


def refused(request: Request, product: Product, session: Session, me: SignedIn, task_id: str, error: EngineError,
            outcome: Outcome) -> Response:
    """The page again, saying why the runner refused; the task as it is now."""
    if isinstance(error, NotFound):
        return not_found(request, me)
    session.rollback()  # read what the refused action found, not what this request saw before
    if isinstance(error, Forbidden):
        outcome.status, outcome.problem = 403, "操作未执行：" + said(error, "您没有办理该任务的权限")
    elif isinstance(error, Conflict):
        outcome.status = 409
        change = said(error, "已被他人处理或状态已变")
        outcome.problem = f"操作未执行：任务刚刚发生了变化（{change}），下面是任务的最新状态。"
    else:  # a script of the workflow failed: nothing was saved
        outcome.status, outcome.problem = 409, "操作未执行：流程处理出错，任务未提交。请稍后重试或联系管理员。"
    return show(request, product, session, me, task_id, outcome)


def act(request: Request, product: Product, session: Session, me: SignedIn | None, task_id: str,
        csrf_token: str, action: Callable[[Actor], None], done: str, field_id: str | None = None,
        typed: str = "") -> Response:
    """One action from the page: the CSRF check, the service call, then back to the task (PRG); a field
    error beside the action's own field (``field_id``), with what was typed kept."""
    if me is None:
        return login_first(request, task_id)
    if not same_token(me.session.csrf, csrf_token):
        return stale_form(request, me, f"/tasks/{task_id}")
    session.rollback()  # end this request's read before the write
    try:
        action(me.principal.actor)
    except InvalidInput as error:
        message = "；".join(chinese_part(e.message) for e in error.errors)
        outcome = (Outcome(status=422, action_errors={field_id: message}, action_values={field_id: typed})
                   if field_id else Outcome(status=422, problem="操作未执行：" + message))
        return show(request, product, session, me, task_id, outcome)
    except EngineError as error:
        return refused(request, product, session, me, task_id, error, Outcome())
    return RedirectResponse(f"/tasks/{task_id}?done={done}", status_code=303)


@router.post("/tasks/{task_id}/claim")
def claim(request: Request, task_id: str, product: ProductDep, session: SessionDep, me: SignedInDep,
          csrf_token: FormText = "") -> Response:
    return act(request, product, session, me, task_id, csrf_token,
               lambda actor: task_actions.claim_task(product, task_id, actor), "claimed")


@router.post("/tasks/{task_id}/release")
def release(request: Request, task_id: str, product: ProductDep, session: SessionDep, me: SignedInDep,
            csrf_token: FormText = "") -> Response:
    return act(request, product, session, me, task_id, csrf_token,
               lambda actor: task_actions.release_task(product, task_id, actor), "released")


@router.post("/tasks/{task_id}/assign")
def assign(request: Request, task_id: str, product: ProductDep, session: SessionDep, me: SignedInDep,
           csrf_token: FormText = "", username: FormText = "") -> Response:
    def hand_over(actor: Actor) -> None:
        if not username.strip():
            raise InvalidInput([FieldError("username", "请选择要转交的同事")])
        task_actions.assign_task(product, task_id, username.strip(), actor)

    return act(request, product, session, me, task_id, csrf_token, hand_over, "assigned", ASSIGN_FIELD, username)


def _clock(stop: bool, product: Product, task_id: str, reason: str) -> Callable[[Actor], None]:
    def change(actor: Actor) -> None:
        text = reason.strip()
        if not text:
            raise InvalidInput([FieldError("reason", "请填写理由")])
        if len(text) > MAX_REASON:
            raise InvalidInput([FieldError("reason", f"理由不能超过 {MAX_REASON} 个字")])
        (task_actions.suspend_task if stop else task_actions.resume_task)(product, task_id, actor, text)

    return change


@router.post("/tasks/{task_id}/suspend")
def suspend(request: Request, task_id: str, product: ProductDep, session: SessionDep, me: SignedInDep,
            csrf_token: FormText = "", reason: FormText = "") -> Response:
    return act(request, product, session, me, task_id, csrf_token, _clock(True, product, task_id, reason),
               "suspended", SUSPEND_FIELD, reason)


@router.post("/tasks/{task_id}/resume")
def resume(request: Request, task_id: str, product: ProductDep, session: SessionDep, me: SignedInDep,
           csrf_token: FormText = "", reason: FormText = "") -> Response:
    return act(request, product, session, me, task_id, csrf_token, _clock(False, product, task_id, reason),
               "resumed", RESUME_FIELD, reason)


@router.post("/tasks/{task_id}/complete")
async def complete(request: Request, task_id: str, product: ProductDep, session: SessionDep,
                   me: SignedInDep) -> Response:
    """Async only to read the form, whose fields are the task's own; the work runs in a thread."""
    posted = await request.form()
    answers = {key: value for key, value in posted.multi_items() if isinstance(value, str)}
    return await run_in_threadpool(submit, request, product, session, me, task_id, answers)


def submit(request: Request, product: Product, session: Session, me: SignedIn | None, task_id: str,
           answers: dict[str, str]) -> Response:
    if me is None:
        return login_first(request, task_id)
    if not same_token(me.session.csrf, answers.get("csrf_token")):
        return stale_form(request, me, f"/tasks/{task_id}")
    actor = me.principal.actor
    try:
        view = product.runner.task_view(session, task_id, actor)
    except EngineError as error:
        return refused(request, product, session, me, task_id, error, Outcome())
    fields: list[FormField] = form_fields(view.definition.form if view.definition else None)
    data, typed = parse_submission(fields, answers)
    session.rollback()  # end this request's read before the write
    try:
        result = task_actions.complete_task(product, task_id, data, actor)
    except InvalidInput as error:
        return show(request, product, session, me, task_id, Outcome(status=422, values=typed, errors=error.errors))
    except EngineError as error:
        return refused(request, product, session, me, task_id, error, Outcome(values=typed))
    lanes = product.runner.tasks.lanes
    following = next((t for t in result.next_tasks
                      if t.agency_code == actor.agency_code and lanes.may_work(actor, t.lane)), None)
    return RedirectResponse(f"/tasks/{following.id}?done=completed" if following else "/tasks?done=1",
                            status_code=303)
