"""Request dependencies: the product, a read session, and the signed-in user."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from anyio import to_thread
from fastapi import Depends, Path, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import bindparam, exists, func, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from agencies.tables import Agency, Business, User
from agencies.users import check_password, worker_code
from complaintflow.services import sessions
from complaintflow.tables import RevokedToken
from complaintflow.wiring import Product
from engine.errors import Forbidden
from engine.runner import Actor
from web.errors import Unauthorized
from web.security import TokenClaims, read_token

MAX_ID = 2**63 - 1  # ids are BIGINT: anything larger cannot exist
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
Key = Annotated[str, Path(max_length=100, pattern=r"^[A-Za-z0-9_.\-]+$")]
WORD = r"^[A-Za-z0-9_\-]+$"
TEXT = r"^[^\x00]*$"  # no NUL: PostgreSQL text cannot hold it

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def client_address(request: Request) -> str:
    """The client's address: the peer's, or the one a trusted proxy forwarded (the proxy-headers
    middleware rewrites the peer only for configured proxies, so a client cannot choose it)."""
    return request.client.host if request.client else "-"


async def check_sign_in(request: Request, product: Product, username: str, password: str) -> User | None:
    """The user these credentials sign in, else ``None``; ``sessions.TooManyAttempts`` while the
    address's or the account's limit of failed attempts is used up. One path for the API's token and
    the pages' session, so both count against the same limits.

    Async so that a burst of sign-ins waits for Argon2 here, holding neither a worker thread nor a
    database connection: the user is read in a thread that gives its connection back, then hashed in
    one of at most ``HASHING_THREADS``."""
    address = client_address(request)
    found = await run_in_threadpool(sessions.user_to_check, product, username, address)
    user = await to_thread.run_sync(check_password, found, password, limiter=request.app.state.hashing)
    await run_in_threadpool(sessions.count_login_attempt, product, username, address, user is not None)
    return user


async def get_product(request: Request) -> Product:  # async: no thread hop for a plain lookup
    product: Product = request.app.state.product
    return product


ProductDep = Annotated[Product, Depends(get_product)]


async def get_session(product: ProductDep) -> AsyncIterator[Session]:
    """A session for reading; writes go through the service functions' own units of work.

    Async, so opening and closing it takes no thread hops: it touches the database only when the
    (threaded) endpoint first queries, and closing hands its connection back to the pool."""
    with product.reader() as uow:
        yield uow.session


SessionDep = Annotated[Session, Depends(get_session)]


@dataclass(frozen=True)
class SignedInUser:
    """The columns of ``users`` a request needs, read without building an ORM object."""

    id: int
    username: str
    display_name: str
    agency_id: int | None
    roles: tuple[str, ...]  # in the order the admin gave them
    agency_name: str | None = None  # shown in the pages' header: the agency's, or a business user's business's
    business_id: int | None = None  # a business's own user: the business they act for


@dataclass(frozen=True)
class Principal:
    user: SignedInUser
    actor: Actor
    claims: TokenClaims

    @property
    def is_admin(self) -> bool:
        return "admin" in self.user.roles

    @property
    def is_staff(self) -> bool:
        """Works for an agency (a business's user acts under its business's party code instead)."""
        return self.user.agency_id is not None

    @property
    def agency_id(self) -> int:
        """The staff member's agency (``StaffUser`` guarantees there is one)."""
        if self.user.agency_id is None:
            raise Forbidden("需要机构工作人员账号 / needs an agency staff account")
        return self.user.agency_id

    @property
    def business_id(self) -> int:
        """The business user's business (``BusinessUser`` guarantees there is one)."""
        if self.user.business_id is None or "business" not in self.user.roles:
            raise Forbidden("需要经营者账号 / needs a business account")
        return self.user.business_id


# the user, their agency's code and whether the token was revoked: one round trip per request
_PRINCIPAL = (
    select(User.id, User.username, User.display_name, User.agency_id, User.roles, User.active,
           User.session_epoch, User.business_id, Agency.code,
           func.coalesce(Agency.name, Business.name).label("agency_name"), Agency.active.label("agency_active"),
           exists().where(RevokedToken.jti == bindparam("jti")).label("revoked"))
    .outerjoin(Agency, Agency.id == User.agency_id)
    .outerjoin(Business, Business.id == User.business_id)
    .where(User.username == bindparam("username"))
)


def current_principal(product: ProductDep, session: SessionDep,
                      token: Annotated[str | None, Depends(oauth2)]) -> Principal:
    if not token:
        raise Unauthorized("未登录 / not authenticated")
    claims = read_token(token, product.secret_key, product.clock.now())
    if claims is None:
        raise Unauthorized("令牌无效或已过期 / invalid or expired token")
    return principal_for(session, claims)


def principal_for(session: Session, claims: TokenClaims) -> Principal:
    """The signed-in user of verified, unexpired claims (a bearer token's or a page session's): refused
    when logout revoked them (``jti``), the session epoch moved on (password change, deactivation) or
    the user or their agency is inactive."""
    row = session.connection().execute(_PRINCIPAL, {"username": claims.username, "jti": claims.jti}).first()
    # end the read transaction: a write endpoint then holds one pooled connection, not two
    session.rollback()
    if row is not None and (row.revoked or row.session_epoch != claims.epoch):
        raise Unauthorized("令牌无效或已过期 / invalid or expired token")
    if row is None or not row.active or row.agency_active is False:
        raise Unauthorized("用户不可用 / user disabled")
    user = SignedInUser(row.id, row.username, row.display_name, row.agency_id, tuple(row.roles), row.agency_name,
                        row.business_id)
    return Principal(user, Actor(user.username, worker_code(row.code, row.business_id), frozenset(user.roles)), claims)


CurrentUser = Annotated[Principal, Depends(current_principal)]


async def staff(principal: CurrentUser) -> Principal:
    """A user who works for an agency (liaison, supervisor, enforcement)."""
    if not principal.is_staff:
        raise Forbidden("需要机构工作人员账号 / needs an agency staff account")
    return principal


async def task_worker(principal: CurrentUser) -> Principal:
    """A user who works workflow tasks: agency staff, or a business's own user (its business's tasks,
    under the business's party code)."""
    if principal.actor.agency_code is None:
        raise Forbidden("需要机构工作人员或经营者账号 / needs an agency staff or business account")
    return principal


async def admin(principal: CurrentUser) -> Principal:
    if not principal.is_admin:
        raise Forbidden("需要管理员权限 / admin only")
    return principal


async def business_party(principal: CurrentUser) -> Principal:
    """A business's own user: sees only the complaints against that business."""
    _ = principal.business_id  # 403 for anyone else
    return principal


StaffUser = Annotated[Principal, Depends(staff)]
TaskWorker = Annotated[Principal, Depends(task_worker)]
AdminUser = Annotated[Principal, Depends(admin)]
BusinessUser = Annotated[Principal, Depends(business_party)]
