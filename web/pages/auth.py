"""Signing in and out of the pages (``/login``, ``/logout``) and where ``/`` leads.

Sign-in goes through the same path as the API's token (``web.deps.check_sign_in``): the same
rate limits, the same password check, a deactivated agency's user refused like a wrong password.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from complaintflow.services import sessions as sign_in
from web.deps import ProductDep, check_sign_in
from web.pages import sessions
from web.pages.render import page, safe_next, stale_form
from web.pages.sessions import SignedIn, SignedInDep

router = APIRouter(include_in_schema=False)

WRONG_CREDENTIALS = "用户名或密码错误"
TOO_MANY_ATTEMPTS = "登录失败次数过多，请稍后再试"
MAX_USERNAME = 100  # users.username
MAX_PASSWORD = 200  # what an admin may set

FormText = Annotated[str, Form()]


def start_of(agency_id: int | None, business_id: int | None) -> str:
    """Where a user starts: staff at their agency's inbox, a business's own user at the complaints
    against its business (the ones to answer carry a link to their task); the administrator (neither)
    at the workflows."""
    if agency_id is not None:
        return "/tasks"
    return "/business/complaints" if business_id is not None else "/admin/workflows"


def home_of(me: SignedIn) -> str:
    user = me.principal.user
    return start_of(user.agency_id, user.business_id)


@router.get("/")
def home(me: SignedInDep) -> Response:
    return RedirectResponse(home_of(me) if me is not None else "/login", status_code=303)


@router.get("/login")
def login_form(request: Request, product: ProductDep, me: SignedInDep, next: str | None = None) -> Response:
    """The sign-in form, with a fresh CSRF token in its own cookie (kept while it is still valid, so
    two open tabs both work). Someone already signed in goes on."""
    if me is not None:
        return RedirectResponse(safe_next(next) or home_of(me), status_code=303)
    return _login_page(request, product, next=safe_next(next))


@router.post("/login")
async def login(request: Request, product: ProductDep, username: FormText = "", password: FormText = "",
                csrf_token: FormText = "", next: FormText = "") -> Response:
    """Check the form's CSRF token first (no database work for a forged form), then the credentials."""
    now = product.clock.now()
    expected = sessions.read_login_form(request.cookies.get(sessions.LOGIN_COOKIE), product.secret_key, now)
    if expected is None or not sessions.same_token(expected, csrf_token):
        return stale_form(request, None, "/login")
    target = safe_next(next)
    if len(username) > MAX_USERNAME or len(password) > MAX_PASSWORD or "\x00" in username + password:
        return _login_page(request, product, next=target, username=username[:MAX_USERNAME],
                           error=WRONG_CREDENTIALS, status=401)  # no such account can exist
    try:
        user = await check_sign_in(request, product, username, password)
    except sign_in.TooManyAttempts:
        return _login_page(request, product, next=target, username=username, error=TOO_MANY_ATTEMPTS, status=429)
    if user is None:
        return _login_page(request, product, next=target, username=username, error=WRONG_CREDENTIALS, status=401)
    value, _session = sessions.issue_session(user.id, user.username, user.session_epoch, product.secret_key, now)
    response = RedirectResponse(target or start_of(user.agency_id, user.business_id), status_code=303)
    sessions.forget_login_form(response, request)  # it has served
    sessions.set_session_cookie(response, request, value)
    return response


@router.post("/logout")
def logout(request: Request, product: ProductDep, me: SignedInDep, csrf_token: FormText = "") -> Response:
    """End the session for good (its token id is revoked, as an API token's is at logout). Without a
    session there is nothing to end: back to the sign-in page."""
    if me is None:
        response = RedirectResponse("/login", status_code=303)
    elif not sessions.same_token(me.session.csrf, csrf_token):
        return stale_form(request, me, "/tasks")
    else:
        sign_in.logout(product, me.session.claims.jti, me.session.claims.expires_at)
        response = RedirectResponse("/login", status_code=303)
    sessions.end_session_cookie(response, request)
    return response


def _login_page(request: Request, product: ProductDep, *, next: str | None, username: str = "",
                error: str | None = None, status: int = 200) -> Response:
    now = product.clock.now()
    token = sessions.read_login_form(request.cookies.get(sessions.LOGIN_COOKIE), product.secret_key, now)
    cookie = None
    if token is None:
        cookie, token = sessions.issue_login_form(product.secret_key, now)
    response = page(request, "login.html", None, status, next=next, username=username, error=error, csrf_token=token)
    if cookie is not None:
        sessions.set_login_cookie(response, request, cookie)
    return response
