"""The pages' sign-in session: a signed cookie, and the CSRF token every form posts back.

The session cookie (``cf_session``) is a JWT signed with the product's secret key, like the API's
bearer tokens, but for another audience, so neither is accepted in place of the other. It carries
the user's id and username, their session epoch at sign-in, a token id that logout revokes, the CSRF
token of this session, and when it was issued; it lasts ``SESSION_MINUTES`` on the product clock.
Every request checks it as a bearer token is checked (``web.deps.principal_for``): revoked at logout,
ended when the epoch moved on (password change, deactivation) or the user or agency is inactive.

CSRF: a form carries ``csrf_token``; a POST is accepted only when it equals the session's token
(compared in constant time). The sign-in form has no session yet: its token comes from a short-lived
signed cookie of its own (``cf_login``) and must come back in the form as well (double submit).
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

import jwt
from fastapi import Depends, Request
from starlette.responses import Response

from notifications.in_app import unread_count
from web.deps import Principal, ProductDep, SessionDep, principal_for
from web.errors import Unauthorized
from web.security import ALGORITHM, TOKEN_MINUTES, TokenClaims

SESSION_COOKIE = "cf_session"
LOGIN_COOKIE = "cf_login"
SESSION_MINUTES = TOKEN_MINUTES  # one working day, as for the API's tokens
LOGIN_FORM_MINUTES = 60  # how long a sign-in form may stay open before it must be reloaded
SESSION_AUDIENCE = "complaintflow:page-session"
LOGIN_AUDIENCE = "complaintflow:login-form"


@dataclass(frozen=True)
class PageSession:
    """A verified, unexpired session cookie (not yet checked against the database)."""

    user_id: int
    claims: TokenClaims  # username, token id (for logout), expiry, session epoch
    csrf: str


@dataclass(frozen=True)
class SignedIn:
    """The signed-in user of a page request and their session."""

    principal: Principal
    session: PageSession
    unread: int  # the user's unread in-app notices, counted in the frame of every page


def issue_session(user_id: int, username: str, epoch: int, secret: str, now: datetime) -> tuple[str, PageSession]:
    """A new session's cookie value, with a fresh CSRF token and token id."""
    expires_at = now + timedelta(minutes=SESSION_MINUTES)
    session = PageSession(user_id, TokenClaims(username, secrets.token_hex(16), expires_at, epoch),
                          secrets.token_urlsafe(32))
    value = jwt.encode({"aud": SESSION_AUDIENCE, "sub": username, "uid": user_id, "ep": epoch,
                        "jti": session.claims.jti, "csrf": session.csrf, "iat": int(now.timestamp()),
                        "exp": int(expires_at.timestamp())}, secret, algorithm=ALGORITHM)
    return value, session


def read_session(value: str | None, secret: str, now: datetime) -> PageSession | None:
    """The session of a cookie signed with ``secret`` and unexpired on the product clock, else ``None``."""
    payload = _verified(value, secret, SESSION_AUDIENCE, ("sub", "uid", "ep", "jti", "csrf", "iat", "exp"))
    if payload is None:
        return None
    try:
        expires_at = datetime.fromtimestamp(int(payload["exp"]), tz=now.tzinfo)
        claims = TokenClaims(str(payload["sub"]), str(payload["jti"]), expires_at, int(payload["ep"]))
        session = PageSession(int(payload["uid"]), claims, str(payload["csrf"]))
    except (TypeError, ValueError):
        return None
    return session if expires_at > now else None


def issue_login_form(secret: str, now: datetime) -> tuple[str, str]:
    """(cookie value, CSRF token) for a sign-in form."""
    token = secrets.token_urlsafe(32)
    value = jwt.encode({"aud": LOGIN_AUDIENCE, "csrf": token,
                        "exp": int((now + timedelta(minutes=LOGIN_FORM_MINUTES)).timestamp())},
                       secret, algorithm=ALGORITHM)
    return value, token


def read_login_form(value: str | None, secret: str, now: datetime) -> str | None:
    """The CSRF token of a sign-in form's cookie, while it is valid."""
    payload = _verified(value, secret, LOGIN_AUDIENCE, ("csrf", "exp"))
    if payload is None:
        return None
    try:
        unexpired = int(payload["exp"]) > now.timestamp()
    except (TypeError, ValueError):
        return None
    return str(payload["csrf"]) if unexpired else None


def _verified(value: str | None, secret: str, audience: str, required: tuple[str, ...]) -> dict[str, Any] | None:
    """The payload of a value signed with ``secret`` for ``audience``; expiry is checked by the caller
    against the product clock (a test or a replayed day moves it), not against the machine's."""
    if not value:
        return None
    try:
        payload: dict[str, Any] = jwt.decode(value, secret, algorithms=[ALGORITHM], audience=audience, options={
            "verify_exp": False, "verify_iat": False, "require": ["aud", *required]})
    except jwt.PyJWTError:
        return None
    return payload


def same_token(expected: str, given: str | None) -> bool:
    """Whether a form's ``csrf_token`` is the expected one, in time independent of where they differ."""
    return bool(expected) and given is not None and hmac.compare_digest(expected.encode(), given.encode())


def signed_in(request: Request, product: ProductDep, session: SessionDep) -> SignedIn | None:
    """The user of this request's session cookie, or ``None`` (no cookie, a bad signature, expired,
    logged out, the epoch moved on, the user or agency deactivated, or the user id not the one signed
    in — a username reused after deletion)."""
    page_session = read_session(request.cookies.get(SESSION_COOKIE), product.secret_key, product.clock.now())
    if page_session is None:
        return None
    try:
        principal = principal_for(session, page_session.claims)
    except Unauthorized:
        return None
    if principal.user.id != page_session.user_id:
        return None
    return SignedIn(principal, page_session, unread_count(session, principal.user.id))


SignedInDep = Annotated[SignedIn | None, Depends(signed_in)]


def is_https(request: Request) -> bool:
    """Whether the browser reached us over TLS (behind a trusted proxy: as it forwarded)."""
    return request.url.scheme == "https"


def set_session_cookie(response: Response, request: Request, value: str) -> None:
    response.set_cookie(SESSION_COOKIE, value, max_age=SESSION_MINUTES * 60, path="/", httponly=True,
                        samesite="lax", secure=is_https(request))


def set_login_cookie(response: Response, request: Request, value: str) -> None:
    response.set_cookie(LOGIN_COOKIE, value, max_age=LOGIN_FORM_MINUTES * 60, path="/login", httponly=True,
                        samesite="lax", secure=is_https(request))


def forget_login_form(response: Response, request: Request) -> None:
    response.delete_cookie(LOGIN_COOKIE, path="/login", httponly=True, samesite="lax", secure=is_https(request))


def end_session_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=is_https(request))
