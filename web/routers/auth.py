"""Sign in and out (OAuth2 password flow)."""

from __future__ import annotations

from typing import Annotated

from anyio import to_thread
from fastapi import APIRouter, Depends, Request, status
from fastapi.security import OAuth2PasswordRequestForm
from starlette.concurrency import run_in_threadpool

from agencies.repository import get_user
from agencies.tables import User
from agencies.users import check_password
from complaintflow.wiring import Product
from web.deps import CurrentUser, ProductDep
from web.errors import TooManyRequests, Unauthorized
from web.schemas import Token
from web.security import TOKEN_MINUTES, RateLimiter, issue_token
from web.tables import RevokedToken

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


@router.post("/token", response_model=Token)
async def login(request: Request, product: ProductDep, form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Token:
    """Async so that a burst of logins waits for Argon2 here, holding neither a worker thread nor a
    database connection: the user is read in a thread that gives its connection back, then hashed
    in one of at most ``HASHING_THREADS``."""
    failed_logins: RateLimiter = request.app.state.limits["login"]
    key = f"{form.username}|{request.client.host if request.client else '-'}"
    if failed_logins.blocked(key):
        raise TooManyRequests("登录失败次数过多，请稍后再试 / too many failed logins, try again later")
    found = await run_in_threadpool(_read_user, product, form.username)
    user = await to_thread.run_sync(check_password, found, form.password, limiter=request.app.state.hashing)
    if user is None:
        failed_logins.hit(key)
        raise Unauthorized("用户名或密码错误 / wrong username or password")
    failed_logins.reset(key)
    token, _claims = issue_token(user.username, product.settings.complaintflow_secret_key, product.clock.now())
    return Token(access_token=token, expires_in=TOKEN_MINUTES * 60)


def _read_user(product: Product, username: str) -> User | None:
    with product.reader() as uow:
        return get_user(uow.session, username)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(principal: CurrentUser, product: ProductDep) -> None:
    with product.uow() as uow:
        if uow.session.get(RevokedToken, principal.claims.jti) is None:
            uow.session.add(RevokedToken(jti=principal.claims.jti, expires_at=principal.claims.expires_at))
        uow.commit()
