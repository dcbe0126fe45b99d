"""Sign in and out (OAuth2 password flow)."""

from __future__ import annotations

from typing import Annotated

from anyio import to_thread
from fastapi import APIRouter, Depends, Request, status
from fastapi.security import OAuth2PasswordRequestForm
from starlette.concurrency import run_in_threadpool

from agencies.repository import get_user
from agencies.tables import Agency, User
from agencies.users import check_password
from complaintflow.wiring import Product
from web import rate_limits
from web.deps import CurrentUser, ProductDep, client_address
from web.errors import TooManyRequests, Unauthorized
from web.schemas import Token
from web.security import TOKEN_MINUTES, issue_token
from web.tables import RevokedToken

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


@router.post("/token", response_model=Token)
async def login(request: Request, product: ProductDep, form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Token:
    """Async so that a burst of logins waits for Argon2 here, holding neither a worker thread nor a
    database connection: the user is read in a thread that gives its connection back, then hashed
    in one of at most ``HASHING_THREADS``."""
    address = client_address(request)
    found = await run_in_threadpool(_read_user, product, form.username, address)
    user = await to_thread.run_sync(check_password, found, form.password, limiter=request.app.state.hashing)
    await run_in_threadpool(_count_attempt, product, form.username, address, user is not None)
    if user is None:
        raise Unauthorized("用户名或密码错误 / wrong username or password")
    token, _claims = issue_token(user.username, user.session_epoch, product.secret_key, product.clock.now())
    return Token(access_token=token, expires_in=TOKEN_MINUTES * 60)


def _read_user(product: Product, username: str, address: str) -> User | None:
    """The user to check the password against; refused before any hashing while a limit is used up,
    and ``None`` for a user whose agency is deactivated (which looks like a wrong password)."""
    now = product.clock.now()
    with product.reader() as uow:
        if rate_limits.exceeded(uow.session, rate_limits.LOGIN_PER_ADDRESS, address, now) or rate_limits.exceeded(
                uow.session, rate_limits.LOGIN_PER_ACCOUNT, f"{username}|{address}", now):
            raise TooManyRequests("登录失败次数过多，请稍后再试 / too many failed logins, try again later")
        user = get_user(uow.session, username)
        if user is not None and user.agency_id is not None:
            agency = uow.session.get(Agency, user.agency_id)
            if agency is None or not agency.active:
                return None
        return user


def _count_attempt(product: Product, username: str, address: str, succeeded: bool) -> None:
    now = product.clock.now()
    with product.uow() as uow:
        if succeeded:
            rate_limits.clear(uow.session, rate_limits.LOGIN_PER_ACCOUNT, f"{username}|{address}")
        else:
            rate_limits.record(uow.session, rate_limits.LOGIN_PER_ACCOUNT, f"{username}|{address}", now)
            rate_limits.record(uow.session, rate_limits.LOGIN_PER_ADDRESS, address, now)
        uow.commit()


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(principal: CurrentUser, product: ProductDep) -> None:
    with product.uow() as uow:
        if uow.session.get(RevokedToken, principal.claims.jti) is None:
            uow.session.add(RevokedToken(jti=principal.claims.jti, expires_at=principal.claims.expires_at))
        uow.commit()
