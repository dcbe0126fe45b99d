"""Admins manage agencies and users (every change audited)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select

from agencies.tables import Agency, User
from complaintflow.services import accounts
from web.deps import AdminUser, Key, ProductDep, SessionDep

router = APIRouter(prefix="/api/v1", tags=["admin"])
Role = Literal["liaison", "supervisor", "enforcement", "admin"]
CODE = r"^[a-z0-9][a-z0-9.\-]{1,48}$"
NAME = r"^[^\x00]+$"
EMAIL = r"^[^@\s\x00]+@[^@\s\x00]+\.[^@\s\x00]+$"
BUSINESS_ROLE_REFUSED = ("经营者账号（角色 business）请通过 POST /api/v1/admin/businesses/{id}/users 为该经营者创建 / "
                         "business users are created with POST /api/v1/admin/businesses/{id}/users")


def _no_business_role(value: Any) -> Any:
    """A business's user belongs to a business, never to an agency: it is made with its business."""
    if isinstance(value, list) and "business" in value:
        raise ValueError(BUSINESS_ROLE_REFUSED)
    return value


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

    _refuse_business = field_validator("roles", mode="before")(_no_business_role)


class UserPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    display_name: str | None = Field(default=None, min_length=1, max_length=100, pattern=NAME)
    password: str | None = Field(default=None, min_length=1, max_length=200)
    roles: list[Role] | None = Field(default=None, min_length=1, max_length=4)
    active: bool | None = None
    email: str | None = Field(default=None, max_length=200, pattern=EMAIL)

    _refuse_business = field_validator("roles", mode="before")(_no_business_role)


def _user_out(user: User, agency_code: str | None) -> dict[str, Any]:
    return {"username": user.username, "display_name": user.display_name, "roles": user.roles,
            "agency": agency_code, "email": user.email, "active": user.active}


@router.post("/agencies", status_code=status.HTTP_201_CREATED)
def add_agency(body: AgencyIn, admin: AdminUser, product: ProductDep) -> dict[str, Any]:
    accounts.add_agency(product, accounts.NewAgency(**body.model_dump()), admin.actor)
    return body.model_dump()


@router.patch("/agencies/{code}")
def change_agency(code: Key, body: AgencyPatch, admin: AdminUser, product: ProductDep) -> dict[str, Any]:
    agency = accounts.change_agency(product, code, body.model_dump(exclude_unset=True), admin.actor)
    return {"code": agency.code, "name": agency.name, "short_name": agency.short_name, "active": agency.active}


@router.get("/users")
def users(_admin: AdminUser, session: SessionDep) -> list[dict[str, Any]]:
    codes = {a.id: a.code for a in session.scalars(select(Agency))}
    return [_user_out(u, codes.get(u.agency_id) if u.agency_id else None)
            for u in session.scalars(select(User).order_by(User.username))]


@router.post("/users", status_code=status.HTTP_201_CREATED)
def add_user(body: UserIn, admin: AdminUser, product: ProductDep) -> dict[str, Any]:
    account = accounts.add_user(product, accounts.NewUser(**body.model_dump()), admin.actor)
    return _user_out(account.user, account.agency_code)


@router.patch("/users/{username}")
def change_user(username: Key, body: UserPatch, admin: AdminUser, product: ProductDep) -> dict[str, Any]:
    account = accounts.change_user(product, username, body.model_dump(exclude_unset=True), admin.actor)
    return _user_out(account.user, account.agency_code)
