"""Admins manage agencies and users (every change audited)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from agencies.errors import InvalidUser
from agencies.regions import region_exists
from agencies.repository import get_agency_by_code, get_user
from agencies.tables import Agency, User
from agencies.users import create_user, end_agency_sessions, end_sessions, set_password
from engine.errors import Conflict, FieldError, InvalidInput, NotFound
from web.deps import AdminUser, Key, ProductDep, SessionDep

router = APIRouter(prefix="/api/v1", tags=["admin"])
Role = Literal["liaison", "supervisor", "enforcement", "admin"]
CODE = r"^[a-z0-9][a-z0-9.\-]{1,48}$"
NAME = r"^[^\x00]+$"
EMAIL = r"^[^@\s\x00]+@[^@\s\x00]+\.[^@\s\x00]+$"


class AgencyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=CODE)
    name: str = Field(min_length=2, max_length=100, pattern=NAME)
    short_name: str = Field(min_length=1, max_length=20, pattern=NAME)
    kind: Literal["consumer_association", "market_regulator", "mediation_committee"]
    region_code: str = Field(pattern=r"^\d{6}$")
    parent: str | None = Field(default=None, pattern=CODE)


class AgencyPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=2, max_length=100, pattern=NAME)
    short_name: str | None = Field(default=None, min_length=1, max_length=20, pattern=NAME)
    parent: str | None = Field(default=None, pattern=CODE)
    active: bool | None = None


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(pattern=CODE)
    display_name: str = Field(min_length=1, max_length=100, pattern=NAME)
    password: str = Field(min_length=1, max_length=200)
    agency: str | None = Field(default=None, pattern=CODE)
    roles: list[Role] = Field(min_length=1, max_length=4)
    email: str | None = Field(default=None, max_length=200, pattern=EMAIL)


class UserPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    display_name: str | None = Field(default=None, min_length=1, max_length=100, pattern=NAME)
    password: str | None = Field(default=None, min_length=1, max_length=200)
    roles: list[Role] | None = Field(default=None, min_length=1, max_length=4)
    active: bool | None = None
    email: str | None = Field(default=None, max_length=200, pattern=EMAIL)


def _agency(session: Any, code: str | None, field: str) -> Agency | None:
    if code is None:
        return None
    agency = get_agency_by_code(session, code)
    if agency is None:
        raise InvalidInput([FieldError(field, f"未知单位 / unknown agency {code!r}")])
    return agency


def _settable(body: BaseModel, nullable: set[str]) -> dict[str, Any]:
    """The fields a PATCH sets; ``null`` clears only fields that may be empty, and is ignored elsewhere."""
    return {k: v for k, v in body.model_dump(exclude_unset=True).items() if v is not None or k in nullable}


def _user_out(user: User, codes: dict[int, str]) -> dict[str, Any]:
    return {"username": user.username, "display_name": user.display_name, "roles": user.roles,
            "agency": codes.get(user.agency_id) if user.agency_id else None, "email": user.email,
            "active": user.active}


@router.post("/agencies", status_code=status.HTTP_201_CREATED)
def add_agency(body: AgencyIn, admin: AdminUser, product: ProductDep) -> dict[str, Any]:
    if not region_exists(body.region_code):
        raise InvalidInput([FieldError("region_code", "未知的行政区划代码 / unknown GB/T 2260 region code")])
    with product.uow() as uow:
        if get_agency_by_code(uow.session, body.code) is not None:
            raise Conflict(f"agency {body.code} exists")
        parent = _agency(uow.session, body.parent, "parent")
        agency = Agency(code=body.code, name=body.name, short_name=body.short_name, kind=body.kind,
                        region_code=body.region_code, parent_id=parent.id if parent else None, active=True)
        uow.session.add(agency)
        uow.session.flush()
        product.runner.audit(uow.session, admin.actor, "agency.created", None, None, None,
                             {"after": body.model_dump()})
        uow.commit()
    return body.model_dump()


@router.patch("/agencies/{code}")
def change_agency(code: Key, body: AgencyPatch, admin: AdminUser, product: ProductDep) -> dict[str, Any]:
    with product.uow() as uow:
        agency = get_agency_by_code(uow.session, code)
        if agency is None:
            raise NotFound("agency not found")
        before = {"name": agency.name, "short_name": agency.short_name, "parent_id": agency.parent_id,
                  "active": agency.active}
        changes = _settable(body, nullable={"parent"})
        if "parent" in changes:
            parent = _agency(uow.session, changes.pop("parent"), "parent")
            if parent is not None and parent.id == agency.id:
                raise InvalidInput([FieldError("parent", "不能以自身为上级 / an agency cannot supervise itself")])
            agency.parent_id = parent.id if parent else None
        if changes.get("active") is False and agency.active:
            end_agency_sessions(uow.session, agency.id)
        for key, value in changes.items():
            setattr(agency, key, value)
        product.runner.audit(uow.session, admin.actor, "agency.changed", None, None, None,
                             {"agency": code, "before": before, "after": body.model_dump(exclude_unset=True)})
        uow.commit()
        return {"code": agency.code, "name": agency.name, "short_name": agency.short_name, "active": agency.active}


@router.get("/users")
def users(_admin: AdminUser, session: SessionDep) -> list[dict[str, Any]]:
    codes = {a.id: a.code for a in session.scalars(select(Agency))}
    return [_user_out(u, codes) for u in session.scalars(select(User).order_by(User.username))]


@router.post("/users", status_code=status.HTTP_201_CREATED)
def add_user(body: UserIn, admin: AdminUser, product: ProductDep) -> dict[str, Any]:
    with product.uow() as uow:
        if get_user(uow.session, body.username) is not None:
            raise Conflict(f"user {body.username} exists")
        agency = _agency(uow.session, body.agency, "agency")
        try:
            user = create_user(uow.session, username=body.username, display_name=body.display_name,
                               password=body.password, agency=agency, roles=body.roles, now=product.clock.now(),
                               email=body.email)
        except InvalidUser as exc:
            raise InvalidInput([FieldError("roles", str(exc))]) from None
        product.runner.audit(uow.session, admin.actor, "user.created", None, None, None,
                             {"after": body.model_dump(exclude={"password"})})
        uow.commit()
        return _user_out(user, {agency.id: agency.code} if agency else {})


@router.patch("/users/{username}")
def change_user(username: Key, body: UserPatch, admin: AdminUser, product: ProductDep) -> dict[str, Any]:
    with product.uow() as uow:
        user = get_user(uow.session, username)
        if user is None:
            raise NotFound("user not found")
        if body.roles is not None and user.agency_id is None and "admin" not in body.roles:
            raise InvalidInput([FieldError("roles", "无机构的账号只能是管理员 / a user without agency must be admin")])
        before = {"roles": user.roles, "active": user.active, "display_name": user.display_name}
        changes = _settable(body, nullable={"email"})
        if "password" in changes:
            set_password(user, changes.pop("password"))
        if changes.get("active") is False and user.active:
            end_sessions(user)
        for key, value in changes.items():
            setattr(user, key, value)
        product.runner.audit(uow.session, admin.actor, "user.changed", None, None, None, {
            "user": username, "before": before, "after": body.model_dump(exclude_unset=True, exclude={"password"})})
        uow.commit()
        codes = {a.id: a.code for a in uow.session.scalars(select(Agency))}
        return _user_out(user, codes)
