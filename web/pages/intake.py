"""Staff intake (``/complaints/new``): a liaison registers a complaint received by phone or in person.

The same questions as the public form plus the kind and the time of receipt, registered for the
user's own agency through the same service function as ``POST /api/v1/complaints``. Afterwards the
user goes on to the first task the complaint opened that they may work (usually its acceptance
review), else to the complaint. Each rendered form carries its own ``Idempotency-Key``, so a double
click registers one complaint and lands where the first click would have.
"""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from agencies.service_area import served_regions
from agencies.submission import Submitted
from agencies.submission_keys import HEADER as IDEMPOTENCY_HEADER
from agencies.submission_keys import basic_answer
from complaintflow.services import complaints as intake
from complaintflow.wiring import Product
from engine.errors import InvalidInput
from web.deps import ProductDep, SessionDep
from web.pages import complaint_form
from web.pages.render import page, staff_only, stale_form, to_login
from web.pages.sessions import SignedIn, SignedInDep, same_token

router = APIRouter(include_in_schema=False)

PATH = "/complaints/new"


def _no_agency(request: Request, me: SignedIn) -> Response:
    return staff_only(request, me, "无法登记投诉", "登记投诉")


def _form_page(request: Request, me: SignedIn, session: SessionDep, values: dict[str, str],
               errors: complaint_form.FormErrors | None = None, *, key: str | None = None,
               status: int = 200) -> Response:
    form = complaint_form.context(values, errors or complaint_form.FormErrors(), served_regions(session), staff=True)
    return page(request, "intake.html", me, status, nav="intake", submission_key=key or secrets.token_urlsafe(24),
                staff_form=True, **form)


@router.get(PATH)
def new_complaint(request: Request, session: SessionDep, me: SignedInDep) -> Response:
    if me is None:
        return to_login(request)
    if not me.principal.is_staff:
        return _no_agency(request, me)
    return _form_page(request, me, session, complaint_form.blank(staff=True))


@router.post(PATH)
async def register(request: Request, product: ProductDep, session: SessionDep, me: SignedInDep) -> Response:
    if me is None:
        return to_login(request)
    form = await request.form()
    values = complaint_form.values_of(form, staff=True)
    key, token = form.get("submission_key"), form.get("csrf_token")
    return await run_in_threadpool(_register, request, product, session, me, values,
                                   key if isinstance(key, str) else "", token if isinstance(token, str) else "")


def _register(request: Request, product: Product, session: SessionDep, me: SignedIn, values: dict[str, str],
              key: str, token: str) -> Response:
    if not same_token(me.session.csrf, token):
        return stale_form(request, me, PATH)
    if not me.principal.is_staff:
        return _no_agency(request, me)
    payload, errors = complaint_form.check(values, product.clock.now(), staff=True)
    if errors:
        return _form_page(request, me, session, values, errors, key=key, status=422)
    try:
        submitted = _submit(product, me, payload, key)
    except InvalidInput as exc:
        return _form_page(request, me, session, values, complaint_form.refused(exc.errors, staff=True), key=key,
                          status=422)
    if isinstance(submitted, intake.Replayed):
        target = submitted.response.get("next") or f"/complaints/{submitted.response.get('id')}"
        return RedirectResponse(str(target), status_code=303)
    return RedirectResponse(_next_page(product, me, submitted), status_code=303)


def _submit(product: Product, me: SignedIn, payload: dict[str, Any], key: str) -> Submitted | intake.Replayed:
    """Register under the form's key (kept with the page it led to, for a repeat); a key spent on another
    body — the form edited and sent again after a success — or not a key at all gets a fresh one."""
    actor = me.principal.actor

    def render(submitted: Submitted) -> dict[str, Any]:
        return {**basic_answer(submitted), "next": _next_page(product, me, submitted)}

    try:
        return intake.submit(product, payload, actor, idempotency_key=key or None, render=render)
    except InvalidInput as exc:
        if not any(error.field == IDEMPOTENCY_HEADER for error in exc.errors):
            raise
    return intake.submit(product, payload, actor, idempotency_key=secrets.token_urlsafe(24), render=render)


def _next_page(product: Product, me: SignedIn, submitted: Submitted) -> str:
    """The first task the complaint opened that this user may work, else the complaint itself."""
    actor = me.principal.actor
    for task in submitted.opened_tasks:
        if task.agency_code == actor.agency_code and product.runner.tasks.lanes.may_work(actor, task.lane):
            return f"/tasks/{task.id}"
    return f"/complaints/{submitted.complaint.id}"
