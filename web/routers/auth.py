"""Sign in and out (OAuth2 password flow)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from fastapi.security import OAuth2PasswordRequestForm

from agencies.users import authenticate
from web.deps import CurrentUser, ProductDep, SessionDep
from web.errors import TooManyRequests, Unauthorized
from web.schemas import Token
from web.security import TOKEN_MINUTES, RateLimiter, issue_token
from web.tables import RevokedToken

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


@router.post("/token", response_model=Token)
def login(request: Request, product: ProductDep, session: SessionDep,
          form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Token:
    failed_logins: RateLimiter = request.app.state.limits["login"]
    key = f"{form.username}|{request.client.host if request.client else '-'}"
    if failed_logins.blocked(key):
        raise TooManyRequests("登录失败次数过多，请稍后再试 / too many failed logins, try again later")
    user = authenticate(session, form.username, form.password)
    if user is None:
        failed_logins.hit(key)
        raise Unauthorized("用户名或密码错误 / wrong username or password")
    failed_logins.reset(key)
    token, _claims = issue_token(user.username, product.settings.complaintflow_secret_key, product.clock.now())
    return Token(access_token=token, expires_in=TOKEN_MINUTES * 60)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(principal: CurrentUser, product: ProductDep) -> None:
    with product.uow() as uow:
        if uow.session.get(RevokedToken, principal.claims.jti) is None:
            uow.session.add(RevokedToken(jti=principal.claims.jti, expires_at=principal.claims.expires_at))
        uow.commit()
