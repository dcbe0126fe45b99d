"""Request dependencies: the product, a read session, and the signed-in user."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from agencies.repository import get_user
from agencies.tables import User
from agencies.users import actor_for
from complaintflow.wiring import Product
from engine.runner import Actor
from web.errors import Unauthorized
from web.security import TokenClaims, read_token
from web.tables import RevokedToken

MAX_ID = 2**63 - 1  # ids are BIGINT: anything larger cannot exist
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
Key = Annotated[str, Path(max_length=100, pattern=r"^[A-Za-z0-9_.\-]+$")]
WORD = r"^[A-Za-z0-9_\-]+$"
TEXT = r"^[^\x00]*$"  # no NUL: PostgreSQL text cannot hold it

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


async def get_product(request: Request) -> Product:  # async: no thread hop for a plain lookup
    product: Product = request.app.state.product
    return product


ProductDep = Annotated[Product, Depends(get_product)]


def get_session(product: ProductDep) -> Iterator[Session]:
    """A session for reading; writes go through the service functions' own units of work."""
    with product.reader() as uow:
        yield uow.session


SessionDep = Annotated[Session, Depends(get_session)]


@dataclass(frozen=True)
class Principal:
    user: User
    actor: Actor
    claims: TokenClaims

    @property
    def is_admin(self) -> bool:
        return "admin" in self.user.roles


def current_principal(product: ProductDep, session: SessionDep,
                      token: Annotated[str | None, Depends(oauth2)]) -> Principal:
    if not token:
        raise Unauthorized("未登录 / not authenticated")
    claims = read_token(token, product.settings.complaintflow_secret_key, product.clock.now())
    if claims is None or session.get(RevokedToken, claims.jti) is not None:
        raise Unauthorized("令牌无效或已过期 / invalid or expired token")
    user = get_user(session, claims.username)
    if user is None or not user.active:
        raise Unauthorized("用户不可用 / user disabled")
    return Principal(user, actor_for(session, user), claims)


CurrentUser = Annotated[Principal, Depends(current_principal)]


async def staff(principal: CurrentUser) -> Principal:
    """A user who works for an agency (liaison, supervisor, enforcement)."""
    if principal.actor.agency_code is None:
        from web.errors import ForbiddenError

        raise ForbiddenError("需要机构工作人员账号 / needs an agency staff account")
    return principal


async def admin(principal: CurrentUser) -> Principal:
    if not principal.is_admin:
        from web.errors import ForbiddenError

        raise ForbiddenError("需要管理员权限 / admin only")
    return principal


StaffUser = Annotated[Principal, Depends(staff)]
AdminUser = Annotated[Principal, Depends(admin)]
