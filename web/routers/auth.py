"""Sign in and out (OAuth2 password flow)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from fastapi.security import OAuth2PasswordRequestForm

from complaintflow.services import sessions
from web.deps import CurrentUser, ProductDep, check_sign_in
from web.errors import TooManyRequests, Unauthorized
from web.schemas import Token
from web.security import TOKEN_MINUTES, issue_token

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


@router.post("/token", response_model=Token)
async def login(request: Request, product: ProductDep, form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Token:
    """Async: ``check_sign_in`` waits for Argon2 holding no worker thread or database connection."""
    try:
        user = await check_sign_in(request, product, form.username, form.password)
    except sessions.TooManyAttempts:
        raise TooManyRequests("登录失败次数过多，请稍后再试 / too many failed logins, try again later") from None
    if user is None:
        raise Unauthorized("用户名或密码错误 / wrong username or password")
    token, _claims = issue_token(user.username, user.session_epoch, product.secret_key, product.clock.now())
    return Token(access_token=token, expires_in=TOKEN_MINUTES * 60)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(principal: CurrentUser, product: ProductDep) -> None:
    sessions.logout(product, principal.claims.jti, principal.claims.expires_at)
