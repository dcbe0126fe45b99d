"""Businesses as an administrator enters and changes them, and their own users (each change one audited unit
of work).

Intake creates the businesses complaints name (``agencies.businesses``); an administrator adds one ahead of
its first complaint, corrects its name, USCC, region or address, enrols it in online dispute resolution
(``odr``) or withdraws it, and gives it users (role ``business``), who see only the complaints against it.
A business not enrolled may have users too: they read its complaints, and answer first once it enrols.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from agencies.businesses import by_name, checked_region, checked_uscc
from agencies.errors import InvalidUser
from agencies.passwords import random_password
from agencies.repository import get_user
from agencies.tables import Business, User
from agencies.users import create_user, end_sessions
from agencies.vocab import Role
from complaintflow.wiring import Product
from engine import audit
from engine.errors import Conflict, FieldError, InvalidInput, NotFound
from engine.runner import Actor

CHANGEABLE = ("name", "uscc", "region_code", "address", "odr")


@dataclass(frozen=True)
class NewBusiness:
    name: str
    region_code: str
    uscc: str | None = None
    address: str | None = None
    odr: bool = False


def business_fields(business: Business) -> dict[str, Any]:
    """What the audit records of a business (and what the API answers, with ``created_at``)."""
    return {"id": business.id, "uscc": business.uscc, "name": business.name, "region_code": business.region_code,
            "address": business.address, "odr": business.odr}


def add_business(product: Product, new: NewBusiness, actor: Actor) -> Business:
    """A new business; 409 when one with the same USCC exists (or, without a USCC, one of the same name and
    region); 422 on a USCC that fails its check digit or an unknown region."""
    uscc = checked_uscc(new.uscc)
    region_code = checked_region(new.region_code)
    with product.uow() as uow:
        session = uow.session
        _refuse_twin(session, uscc, new.name, region_code)
        business = Business(uscc=uscc, name=new.name, region_code=region_code, address=new.address or None,
                            odr=new.odr, created_at=product.clock.now())
        session.add(business)
        session.flush()
        _audit(session, product, actor, "business.created", {"after": business_fields(business)})
        uow.commit()
        return business


def change_business(product: Product, business_id: int, sent: Mapping[str, Any], actor: Actor) -> Business:
    """Apply the fields of a change as sent (``name``, ``uscc``, ``region_code``, ``address``, ``odr``):
    ``None`` clears the address and is ignored for the others, so a USCC once known is corrected but never
    dropped. 404 for an unknown business; 422 on a USCC that fails its check digit or an unknown region; 409
    when the new USCC is another business's (or, without a USCC, the new name and region are)."""
    changes = {key: value for key, value in sent.items()
               if key in CHANGEABLE and (value is not None or key == "address")}
    if "address" in changes:
        changes["address"] = changes["address"] or None
    if "uscc" in changes:
        changes["uscc"] = checked_uscc(changes["uscc"])
        if changes["uscc"] is None:
            del changes["uscc"]
    if "region_code" in changes:
        changes["region_code"] = checked_region(changes["region_code"])
    with product.uow() as uow:
        session = uow.session
        business = session.get(Business, business_id, with_for_update=True)
        if business is None:
            raise NotFound("未找到经营者 / business not found")
        before = business_fields(business)
        uscc = changes.get("uscc", business.uscc)
        if uscc != business.uscc:
            _refuse_twin(session, uscc, business.name, business.region_code)
        name, region_code = changes.get("name", business.name), changes.get("region_code", business.region_code)
        if uscc is None and (name, region_code) != (business.name, business.region_code):
            _refuse_twin(session, None, name, region_code)
        for key, value in changes.items():
            setattr(business, key, value)
        session.flush()
        _audit(session, product, actor, "business.changed", {"business": business.id, "before": before,
                                                             "after": business_fields(business)})
        uow.commit()
        return business


def _refuse_twin(session: Session, uscc: str | None, name: str, region_code: str) -> None:
    if uscc is not None:
        if session.scalar(select(Business.id).where(Business.uscc == uscc)) is not None:
            raise Conflict(f"统一社会信用代码 {uscc} 的经营者已存在 / a business with USCC {uscc} exists")
        return
    twin = by_name(session, name, region_code)
    if twin is not None and twin.uscc is None:
        raise Conflict(f"该地区已有名为“{name}”的经营者 / a business of that name exists in the region")


# ---- the business's own users ------------------------------------------------------------------------


@dataclass(frozen=True)
class NewBusinessUser:
    username: str
    display_name: str
    password: str | None = None  # none: a random one is drawn and answered once


@dataclass(frozen=True)
class BusinessAccount:
    """A business user just created, its business, and the password drawn for it (``None`` when the
    administrator chose one): shown once, stored only as its hash."""

    user: User
    business: Business
    password: str | None


def business_user_fields(user: User) -> dict[str, Any]:
    """What the audit records of a business user (never its password)."""
    return {"username": user.username, "display_name": user.display_name, "roles": list(user.roles),
            "business": user.business_id, "active": user.active}


def add_business_user(product: Product, business_id: int, new: NewBusinessUser, actor: Actor) -> BusinessAccount:
    """A new active user with the role ``business`` for this business (enrolled in ODR or not). The password
    must meet the policy (422 on ``password``); without one a random password is drawn. 404 for an unknown
    business, 409 when the username is taken."""
    drawn = random_password(new.username) if new.password is None else None
    password = new.password if new.password is not None else drawn
    assert password is not None
    with product.uow() as uow:
        session = uow.session
        business = session.get(Business, business_id)
        if business is None:
            raise NotFound("未找到经营者 / business not found")
        if get_user(session, new.username) is not None:
            raise Conflict(f"用户名 {new.username} 已存在 / user {new.username} exists")
        try:
            user = create_user(session, username=new.username, display_name=new.display_name, password=password,
                               agency=None, roles=[Role.BUSINESS], now=product.clock.now(), business=business)
        except InvalidUser as exc:  # the roles are fixed here: only a broken rule of agencies.users lands here
            raise InvalidInput([FieldError("roles", exc.reason)]) from None
        _audit(session, product, actor, "user.created", {"after": {**business_user_fields(user),
                                                                   "password_drawn": drawn is not None}})
        uow.commit()
        return BusinessAccount(user, business, drawn)


def set_business_user_active(product: Product, business_id: int, username: str, active: bool,
                             actor: Actor) -> User:
    """Deactivate (ending the user's sign-ins at once) or reactivate one of this business's users; 404 for
    a user who is not this business's, as for a missing one. ``PATCH /api/v1/users/{username}`` does the
    same for any user."""
    with product.uow() as uow:
        session = uow.session
        user = get_user(session, username)
        if user is None or user.business_id != business_id:
            raise NotFound("未找到该经营者的用户 / user of this business not found")
        before = business_user_fields(user)
        if user.active and not active:
            end_sessions(user)
        user.active = active
        session.flush()
        _audit(session, product, actor, "user.changed", {"user": username, "before": before,
                                                         "after": business_user_fields(user)})
        uow.commit()
        return user


def _audit(session: Session, product: Product, actor: Actor, action: str, details: dict[str, Any]) -> None:
    audit.record(session, actor=actor.username, action=action, at=product.clock.now(),
                 agency_code=actor.agency_code, details=details)
