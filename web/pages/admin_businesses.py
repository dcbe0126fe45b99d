"""The administrator's business pages: the list (``/admin/businesses``: search by name or USCC, enrolled in
online dispute resolution or not), a new business (``/admin/businesses/new``), and one business
(``/admin/businesses/{id}``): its details and enrolment, its users (停用 / 启用) and a form adding one.

Only administrators see them; anyone else signed in gets the 403 page, and a visitor is sent to sign in.
Every write goes through ``complaintflow.services.businesses`` (audited there), as the API's does; every
form posts its CSRF token and is answered by a redirect, or by the form again with the messages beside the
fields. A new user's password, when the product drew it, is shown once on the page the redirect leads to:
it travels in a short-lived signed cookie bound to this session and that page, deleted as it is read.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

import jwt
from fastapi import APIRouter, Form, Query, Request
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from agencies.businesses import business_page, get_business, users_of
from agencies.regions import region_name
from agencies.tables import Business
from complaintflow.services import businesses as service
from complaintflow.wiring import Product
from engine.clock import chinese_date
from engine.errors import Conflict, FieldError, InvalidInput, NotFound
from web.deps import MAX_ID, ProductDep, SessionDep
from web.pages.admin_business_forms import USERNAME, Checked, business_values, check_business, check_user, user_values
from web.pages.render import admin_refusal, error_page, page, stale_form
from web.pages.sessions import SignedIn, SignedInDep, is_https, same_token
from web.security import ALGORITHM

router = APIRouter(include_in_schema=False)

FormText = Annotated[str, Form()]
LIST = "/admin/businesses"
NEW = "/admin/businesses/new"
PAGE_SIZE = 50
MAX_PAGE = 1_000_000 // PAGE_SIZE  # the API's largest offset
MAX_QUERY = 100  # as the API's q
FILTERS = {"": "全部", "yes": "已加入在线纠纷解决", "no": "未加入"}
ODR_OF = {"": None, "yes": True, "no": False}
NOT_FOUND_TITLE = "未找到经营者"
NOTICES = {"created": "已添加经营者。", "saved": "已保存修改。"}
PASSWORD_COOKIE = "cf_new_password"
PASSWORD_AUDIENCE = "complaintflow:new-business-user"
PASSWORD_MINUTES = 5  # the redirect follows at once; a password left unread expires


def _number(raw: str | None) -> int | None:
    return int(raw) if raw is not None and raw.isdigit() and 1 <= int(raw) <= MAX_ID else None


def _path(business_id: int) -> str:
    return f"{LIST}/{business_id}"


def _no_business(request: Request, me: SignedIn) -> Response:
    return error_page(request, me, 404, NOT_FOUND_TITLE, "该经营者不存在。", LIST, "返回经营者管理")


def _list_link(q: str, odr: str, number: int = 1) -> str:
    params = {key: value for key, value in (("q", q), ("odr", odr)) if value}
    if number > 1:
        params["page"] = str(number)
    return LIST + (f"?{urlencode(params)}" if params else "")


def _row(business: Business) -> dict[str, Any]:
    return {"id": business.id, "href": _path(business.id), "name": business.name, "uscc": business.uscc or "—",
            "region": _region(business.region_code), "odr": business.odr,
            "created": chinese_date(business.created_at)}


def _region(code: str) -> str:
    name = region_name(code)
    return f"{name}（{code}）" if name else code


# ---- the list -----------------------------------------------------------------------------------------


@router.get(LIST)
def business_list(request: Request, session: SessionDep, me: SignedInDep, q: str | None = None,
                  odr: str | None = None, page_raw: Annotated[str | None, Query(alias="page")] = None) -> Response:
    if (refused := admin_refusal(request, me)) is not None:
        return refused
    assert me is not None
    text = (q or "").strip().replace("\x00", "")
    chosen = odr if odr in FILTERS else ""
    problems = [{"field": "q", "message": f"查询内容最多 {MAX_QUERY} 个字"}] if len(text) > MAX_QUERY else []
    number = int(page_raw) if page_raw and page_raw.isdigit() and 1 <= int(page_raw) <= MAX_PAGE else 1
    rows: list[Business] = []
    total = 0
    if not problems:
        rows, total = business_page(session, text or None, odr=ODR_OF[chosen], limit=PAGE_SIZE,
                                    offset=(number - 1) * PAGE_SIZE)
    pages = max(1, math.ceil(total / PAGE_SIZE))
    return page(request, "admin_businesses.html", me, 422 if problems else 200, nav="businesses", q=text,
                odr=chosen, problems=problems, rows=[_row(b) for b in rows], total=total, page_number=number,
                pages=pages, searched=bool(text or chosen),
                filters=[{"label": label, "href": _list_link(text, key), "current": key == chosen}
                         for key, label in FILTERS.items()],
                previous=_list_link(text, chosen, number - 1) if number > 1 else None,
                next=_list_link(text, chosen, number + 1) if number < pages else None)


# ---- a new business -----------------------------------------------------------------------------------


def _new_page(request: Request, me: SignedIn, form: Checked, status: int = 200) -> Response:
    return page(request, "admin_business_new.html", me, status, nav="businesses", form=form)


@router.get(NEW)
def new_business(request: Request, me: SignedInDep) -> Response:
    if (refused := admin_refusal(request, me)) is not None:
        return refused
    assert me is not None
    return _new_page(request, me, Checked(business_values({})))


@router.post(NEW)
async def add_business(request: Request, product: ProductDep, me: SignedInDep) -> Response:
    if (refused := admin_refusal(request, me)) is not None:
        return refused
    assert me is not None
    form = await request.form()
    if not same_token(me.session.csrf, _str(form.get("csrf_token"))):
        return stale_form(request, me, NEW)
    checked = check_business(business_values(form))
    if checked.errors:
        return _new_page(request, me, checked, 422)
    values = checked.values
    try:
        business = service.add_business(product, service.NewBusiness(
            name=values["name"], region_code=values["region_code"], uscc=values["uscc"] or None,
            address=values["address"] or None, odr=bool(values["odr"])), me.principal.actor)
    except (InvalidInput, Conflict) as exc:
        _refusal(checked, exc, "uscc" if values["uscc"] else "name")
        return _new_page(request, me, checked, 422 if isinstance(exc, InvalidInput) else 409)
    return RedirectResponse(f"{_path(business.id)}?done=created", status_code=303)


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


def _refusal(checked: Checked, exc: InvalidInput | Conflict, conflicting: str) -> None:
    """The service's refusal beside its field: a conflict (the USCC, name or username is taken) beside
    ``conflicting``."""
    if isinstance(exc, InvalidInput):
        checked.refused(exc.errors)
    else:
        checked.refused([FieldError(conflicting, str(exc))])


# ---- one business ---------------------------------------------------------------------------------------


def _business_page(request: Request, product: Product, session: SessionDep, me: SignedIn, business: Business,
                   *, form: Checked | None = None, user_form: Checked | None = None, status: int = 200,
                   notice: str | None = None, new_password: dict[str, str] | None = None) -> Response:
    shown = form or Checked(business_values({
        "name": business.name, "uscc": business.uscc or "", "region_code": business.region_code,
        "address": business.address or "", "odr": "1" if business.odr else ""}))
    users = [{"username": u.username, "display_name": u.display_name, "active": u.active,
              "created": chinese_date(u.created_at),
              "action": f"{_path(business.id)}/users/{u.username}/active"} for u in users_of(session, business.id)]
    problems = (form.problems if form else []) + (user_form.problems if user_form else [])
    response = page(request, "admin_business.html", me, status, nav="businesses", business=_row(business),
                    has_uscc=business.uscc is not None, form=shown,
                    user_form=user_form or Checked(user_values({}), prefix="user-"), users=users, problems=problems,
                    notice=notice, new_password=new_password)
    if new_password is not None or PASSWORD_COOKIE in request.cookies:
        response.headers["Cache-Control"] = "no-store"
        response.delete_cookie(PASSWORD_COOKIE, path=_path(business.id), httponly=True, samesite="strict",
                               secure=is_https(request))
    return response


@router.get(LIST + "/{business_id}")
def business(request: Request, product: ProductDep, session: SessionDep, me: SignedInDep, business_id: str,
             done: str | None = None, user: str | None = None) -> Response:
    if (refused := admin_refusal(request, me)) is not None:
        return refused
    assert me is not None
    number = _number(business_id)
    found = get_business(session, number) if number is not None else None
    if found is None:
        return _no_business(request, me)
    notice = NOTICES.get(done or "")
    named = user if user is not None and USERNAME.match(user) else None
    if done in ("deactivated", "activated", "user") and named is not None:
        notice = {"deactivated": f"已停用用户 {named}，其登录已立即失效。", "activated": f"已启用用户 {named}。",
                  "user": f"已添加用户 {named}。"}[done]
    new_password = _read_password(request, product, me, found.id)
    return _business_page(request, product, session, me, found, notice=None if new_password else notice,
                          new_password=new_password)


@dataclass(frozen=True)
class Posted:
    """A form posted to one business's page by the administrator, its token checked."""

    me: SignedIn
    number: int
    business: Business
    form: FormData


async def _posted(request: Request, session: SessionDep, me: SignedIn | None, business_id: str) -> Posted | Response:
    """The posted form with its business, or the answer refusing it (sign in, 403, stale token, 404)."""
    if (refused := admin_refusal(request, me)) is not None:
        return refused
    assert me is not None
    number = _number(business_id)
    form = await request.form()
    if not same_token(me.session.csrf, _str(form.get("csrf_token"))):
        return stale_form(request, me, _path(number) if number is not None else LIST)
    found = get_business(session, number) if number is not None else None
    if found is None or number is None:
        return _no_business(request, me)
    return Posted(me, number, found, form)


@router.post(LIST + "/{business_id}")
async def change_business(request: Request, product: ProductDep, session: SessionDep, me: SignedInDep,
                          business_id: str) -> Response:
    posted = await _posted(request, session, me, business_id)
    if not isinstance(posted, Posted):
        return posted
    me, number, found, form = posted.me, posted.number, posted.business, posted.form
    checked = check_business(business_values(form))
    if checked.errors:
        return _business_page(request, product, session, me, found, form=checked, status=422)
    values = checked.values
    session.rollback()  # end this request's read before the write
    try:
        service.change_business(product, number, {
            "name": values["name"], "uscc": values["uscc"] or None, "region_code": values["region_code"],
            "address": values["address"] or None, "odr": bool(values["odr"])}, me.principal.actor)
    except NotFound:
        return _no_business(request, me)
    except (InvalidInput, Conflict) as exc:
        _refusal(checked, exc, "uscc" if values["uscc"] else "name")
        return _business_page(request, product, session, me, found, form=checked,
                              status=422 if isinstance(exc, InvalidInput) else 409)
    return RedirectResponse(f"{_path(number)}?done=saved", status_code=303)


# ---- its users ----------------------------------------------------------------------------------------


@router.post(LIST + "/{business_id}/users")
async def add_user(request: Request, product: ProductDep, session: SessionDep, me: SignedInDep,
                   business_id: str) -> Response:
    posted = await _posted(request, session, me, business_id)
    if not isinstance(posted, Posted):
        return posted
    me, number, found, form = posted.me, posted.number, posted.business, posted.form
    checked = check_user(user_values(form))
    if checked.errors:
        return _business_page(request, product, session, me, found, user_form=_forget_password(checked), status=422)
    values = checked.values
    session.rollback()  # end this request's read before the write
    try:
        account = service.add_business_user(product, number, service.NewBusinessUser(
            values["username"], values["display_name"], values["password"] or None), me.principal.actor)
    except NotFound:
        return _no_business(request, me)
    except (InvalidInput, Conflict) as exc:
        _refusal(checked, exc, "username")
        return _business_page(request, product, session, me, found, user_form=_forget_password(checked),
                              status=422 if isinstance(exc, InvalidInput) else 409)
    response = RedirectResponse(f"{_path(number)}?" + urlencode({"done": "user", "user": account.user.username}),
                                status_code=303)
    if account.password is not None:
        _keep_password(response, request, product, me, number, account.user.username, account.password)
    return response


def _forget_password(checked: Checked) -> Checked:
    """A refused form comes back without the password typed: it is never written into a page."""
    checked.values["password"] = ""
    return checked


@router.post(LIST + "/{business_id}/users/{username}/active")
def set_active(request: Request, product: ProductDep, me: SignedInDep, business_id: str, username: str,
               csrf_token: FormText = "", active: FormText = "") -> Response:
    """停用 (``active`` 0: the user's sign-ins end at once) or 启用 (``active`` 1) one of the business's users."""
    if (refused := admin_refusal(request, me)) is not None:
        return refused
    assert me is not None
    number = _number(business_id)
    if not same_token(me.session.csrf, csrf_token):
        return stale_form(request, me, _path(number) if number is not None else LIST)
    if number is None or not USERNAME.match(username) or active not in ("0", "1"):
        return _no_business(request, me)
    try:
        service.set_business_user_active(product, number, username, active == "1", me.principal.actor)
    except NotFound:
        return error_page(request, me, 404, "未找到用户", "该经营者没有这个用户。", _path(number), "返回经营者")
    done = "activated" if active == "1" else "deactivated"
    return RedirectResponse(f"{_path(number)}?" + urlencode({"done": done, "user": username}), status_code=303)


# ---- the one-time password ------------------------------------------------------------------------------


def _keep_password(response: Response, request: Request, product: Product, me: SignedIn, business_id: int,
                   username: str, password: str) -> None:
    """Hand the drawn password to the next page of this session and business, and to nothing else."""
    expires = product.clock.now() + timedelta(minutes=PASSWORD_MINUTES)
    value = jwt.encode({"aud": PASSWORD_AUDIENCE, "sid": me.session.claims.jti, "b": business_id, "u": username,
                        "p": password, "exp": int(expires.timestamp())}, product.secret_key, algorithm=ALGORITHM)
    response.set_cookie(PASSWORD_COOKIE, value, max_age=PASSWORD_MINUTES * 60, path=_path(business_id),
                        httponly=True, samesite="strict", secure=is_https(request))


def _read_password(request: Request, product: Product, me: SignedIn, business_id: int) -> dict[str, str] | None:
    value = request.cookies.get(PASSWORD_COOKIE)
    if not value:
        return None
    try:
        payload = jwt.decode(value, product.secret_key, algorithms=[ALGORITHM], audience=PASSWORD_AUDIENCE,
                             options={"verify_exp": False, "require": ["aud", "sid", "b", "u", "p", "exp"]})
    except jwt.PyJWTError:
        return None
    if (payload["sid"] != me.session.claims.jti or payload["b"] != business_id
            or int(payload["exp"]) <= product.clock.now().timestamp()):
        return None
    return {"username": str(payload["u"]), "password": str(payload["p"])}
