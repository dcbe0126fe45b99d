"""Administrators list, add and change businesses (every change audited), e.g. to enrol one in online
dispute resolution, and give a business its own users (role ``business``). A business user is deactivated
and reactivated like any user, with ``PATCH /api/v1/users/{username}`` ``{"active": …}``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, ConfigDict, Field

from agencies.businesses import business_page, get_business, users_of
from agencies.tables import Business, User
from complaintflow.services import businesses
from engine.errors import NotFound
from web.deps import TEXT, AdminUser, Id, ProductDep, SessionDep
from web.schemas import BusinessIn, BusinessListOut, BusinessOut, BusinessPatch, Model

router = APIRouter(prefix="/api/v1/admin/businesses", tags=["admin"])

USERNAME = r"^[a-z0-9][a-z0-9.\-]{1,48}$"  # as for staff (web/routers/people.py)
NAME = r"^[^\x00]+$"
NOT_FOUND = "未找到经营者 / business not found"


class BusinessChange(BusinessPatch):
    """A change: besides the name, address and enrolment, a corrected USCC (checksum verified; a USCC once
    known is never removed) or region."""

    uscc: str | None = Field(default=None, max_length=30, pattern=r"^[^\x00]*$",
                             description="统一社会信用代码 (checksum verified)")
    region_code: str | None = Field(default=None, pattern=r"^\d{6}$")


class BusinessUserIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    username: str = Field(pattern=USERNAME, description="lower-case letters, digits, dots and hyphens")
    display_name: str = Field(min_length=1, max_length=100, pattern=NAME)
    password: str | None = Field(default=None, min_length=1, max_length=200,
                                 description="as the policy for staff; left out, a random one is answered once")


class BusinessUserOut(Model):
    username: str
    display_name: str
    active: bool
    created_at: datetime


class BusinessUserCreated(BusinessUserOut):
    business_id: int
    roles: list[str]
    odr: bool = Field(description="whether the business is enrolled in ODR (its users answer complaints first)")
    password: str | None = Field(description="the random password drawn for the user, shown this once; "
                                             "null when the administrator chose it")


class BusinessUsersOut(Model):
    business_id: int
    business_name: str
    odr: bool = Field(description="enrolled in online dispute resolution (在线纠纷解决)")
    items: list[BusinessUserOut]
    total: int


def _out(business: Business) -> BusinessOut:
    return BusinessOut.model_validate(business)


def _user_out(user: User) -> BusinessUserOut:
    return BusinessUserOut.model_validate(user)


@router.get("", response_model=BusinessListOut)
def list_businesses(_admin: AdminUser, session: SessionDep,
                    q: Annotated[str | None, Query(max_length=100, pattern=TEXT,
                                                   description="part of the name, or the start of the USCC")] = None,
                    odr: Annotated[bool | None, Query(description="enrolled in ODR or not")] = None,
                    limit: Annotated[int, Query(ge=1, le=200)] = 50,
                    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> BusinessListOut:
    rows, total = business_page(session, q, odr=odr, limit=limit, offset=offset)
    return BusinessListOut(items=[_out(b) for b in rows], total=total)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=BusinessOut)
def add_business(body: BusinessIn, admin: AdminUser, product: ProductDep) -> BusinessOut:
    """A business ahead of its first complaint (409 if its USCC, or its name in the region, is known)."""
    return _out(businesses.add_business(product, businesses.NewBusiness(**body.model_dump()), admin.actor))


@router.patch("/{business_id}", response_model=BusinessOut)
def change_business(business_id: Id, body: BusinessChange, admin: AdminUser, product: ProductDep) -> BusinessOut:
    """Correct the name, USCC, region or address, or enrol the business in online dispute resolution
    (``odr``) or withdraw it."""
    return _out(businesses.change_business(product, business_id, body.model_dump(exclude_unset=True), admin.actor))


@router.get("/{business_id}", response_model=BusinessOut)
def get_one(business_id: Id, _admin: AdminUser, session: SessionDep) -> BusinessOut:
    business = get_business(session, business_id)
    if business is None:
        raise NotFound(NOT_FOUND)
    return _out(business)


@router.get("/{business_id}/users", response_model=BusinessUsersOut)
def list_users(business_id: Id, _admin: AdminUser, session: SessionDep) -> BusinessUsersOut:
    """The business's users, active and inactive, and whether the business is enrolled in ODR."""
    business = get_business(session, business_id)
    if business is None:
        raise NotFound(NOT_FOUND)
    users = users_of(session, business_id)
    return BusinessUsersOut(business_id=business.id, business_name=business.name, odr=business.odr,
                            items=[_user_out(u) for u in users], total=len(users))


@router.post("/{business_id}/users", status_code=status.HTTP_201_CREATED, response_model=BusinessUserCreated)
def add_user(business_id: Id, body: BusinessUserIn, admin: AdminUser, product: ProductDep) -> BusinessUserCreated:
    """A user with the role ``business`` for this business, enrolled or not (409 if the username is taken;
    422 on a password the policy refuses). Without a password a random one is drawn and answered once."""
    account = businesses.add_business_user(
        product, business_id, businesses.NewBusinessUser(body.username, body.display_name, body.password),
        admin.actor)
    user = account.user
    return BusinessUserCreated(username=user.username, display_name=user.display_name, active=user.active,
                               created_at=user.created_at, business_id=account.business.id, roles=list(user.roles),
                               odr=account.business.odr, password=account.password)
