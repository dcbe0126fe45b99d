"""Agencies and staff accounts, as an administrator creates and changes them (every change audited).

Deactivating an agency or a user, and changing a password, end the sign-ins made before: the
tokens already issued stop working at their next request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy.orm import Session

from agencies.errors import InvalidUser
from agencies.regions import region_exists
from agencies.repository import get_agency_by_code, get_user
from agencies.tables import Agency, User
from agencies.users import actor_for, create_user, end_agency_sessions, end_sessions, set_password
from complaintflow.wiring import Product
from engine import audit
from engine.errors import Conflict, FieldError, InvalidInput, NotFound
from engine.runner import Actor


@dataclass(frozen=True)
class NewAgency:
    code: str
    name: str
    short_name: str
    kind: str
    region_code: str
    parent: str | None = None  # the supervising agency's code


@dataclass(frozen=True)
class NewUser:
    username: str
    display_name: str
    password: str
    agency: str | None  # the agency's code; only an administrator has none
    roles: list[str]
    email: str | None = None


@dataclass(frozen=True)
class Account:
    """A user as it is after a change, with its agency's code (``None`` for an administrator)."""

    user: User
    agency_code: str | None


def add_agency(product: Product, new: NewAgency, actor: Actor) -> Agency:
    if not region_exists(new.region_code):
        raise InvalidInput([FieldError("region_code", "未知的行政区划代码 / unknown GB/T 2260 region code")])
    with product.uow() as uow:
        if get_agency_by_code(uow.session, new.code) is not None:
            raise Conflict(f"单位代码 {new.code} 已存在 / agency {new.code} exists")
        parent = _agency(uow.session, new.parent, "parent")
        agency = Agency(code=new.code, name=new.name, short_name=new.short_name, kind=new.kind,
                        region_code=new.region_code, parent_id=parent.id if parent else None, active=True)
        uow.session.add(agency)
        uow.session.flush()
        _audit(uow.session, product, actor, "agency.created", {"after": asdict(new)})
        uow.commit()
        return agency


def change_agency(product: Product, code: str, sent: Mapping[str, Any], actor: Actor) -> Agency:
    """Apply the fields of a change (``name``, ``short_name``, ``parent``, ``active``) as sent: ``None``
    clears the parent and is ignored for the others. Deactivating ends its users' sign-ins."""
    with product.uow() as uow:
        agency = get_agency_by_code(uow.session, code)
        if agency is None:
            raise NotFound("未找到单位 / agency not found")
        before = {"name": agency.name, "short_name": agency.short_name, "parent_id": agency.parent_id,
                  "active": agency.active}
        changes = _settable(sent, nullable={"parent"})
        if "parent" in changes:
            parent = _agency(uow.session, changes.pop("parent"), "parent")
            if parent is not None and parent.id == agency.id:
                raise InvalidInput([FieldError("parent", "不能以自身为上级 / an agency cannot supervise itself")])
            agency.parent_id = parent.id if parent else None
        if changes.get("active") is False and agency.active:
            end_agency_sessions(uow.session, agency.id)
        for key, value in changes.items():
            setattr(agency, key, value)
        _audit(uow.session, product, actor, "agency.changed", {"agency": code, "before": before, "after": dict(sent)})
        uow.commit()
        return agency


def add_user(product: Product, new: NewUser, actor: Actor) -> Account:
    """A new active account; its password must meet the policy (422 on ``password`` otherwise)."""
    with product.uow() as uow:
        if get_user(uow.session, new.username) is not None:
            raise Conflict(f"用户名 {new.username} 已存在 / user {new.username} exists")
        agency = _agency(uow.session, new.agency, "agency")
        try:
            user = create_user(uow.session, username=new.username, display_name=new.display_name,
                               password=new.password, agency=agency, roles=new.roles, now=product.clock.now(),
                               email=new.email)
        except InvalidUser as exc:
            raise InvalidInput([FieldError("roles", exc.reason)]) from None
        after = {k: v for k, v in asdict(new).items() if k != "password"}
        _audit(uow.session, product, actor, "user.created", {"after": after})
        uow.commit()
        return Account(user, agency.code if agency else None)


def change_user(product: Product, username: str, sent: Mapping[str, Any], actor: Actor) -> Account:
    """Apply the fields of a change (``display_name``, ``password``, ``roles``, ``active``, ``email``) as
    sent: ``None`` clears the email and is ignored for the others. A new password or deactivation
    ends the user's sign-ins; the password itself is never audited."""
    with product.uow() as uow:
        user = get_user(uow.session, username)
        if user is None:
            raise NotFound("未找到用户 / user not found")
        roles = sent.get("roles")
        if roles is not None and user.agency_id is None and "admin" not in roles:
            raise InvalidInput([FieldError("roles", "无机构的账号只能是管理员 / a user without agency must be admin")])
        before = {"roles": user.roles, "active": user.active, "display_name": user.display_name}
        changes = _settable(sent, nullable={"email"})
        if "password" in changes:
            set_password(user, changes.pop("password"))
        if changes.get("active") is False and user.active:
            end_sessions(user)
        for key, value in changes.items():
            setattr(user, key, value)
        after = {k: v for k, v in sent.items() if k != "password"}
        _audit(uow.session, product, actor, "user.changed", {"user": username, "before": before, "after": after})
        uow.commit()
        agency = uow.session.get(Agency, user.agency_id) if user.agency_id is not None else None
        return Account(user, agency.code if agency else None)


def active_actor(product: Product, username: str) -> Actor | None:
    """The engine's view of an active user (``None`` for an unknown or inactive one), for the command
    line's ``--as``."""
    with product.reader() as uow:
        user = get_user(uow.session, username)
        if user is None or not user.active:
            return None
        return actor_for(uow.session, user)


def _agency(session: Session, code: str | None, field: str) -> Agency | None:
    if code is None:
        return None
    agency = get_agency_by_code(session, code)
    if agency is None:
        raise InvalidInput([FieldError(field, f"未知单位 / unknown agency {code!r}")])
    return agency


def _settable(sent: Mapping[str, Any], nullable: set[str]) -> dict[str, Any]:
    """The fields a change sets; ``None`` clears only fields that may be empty, and is ignored elsewhere."""
    return {k: v for k, v in sent.items() if v is not None or k in nullable}


def _audit(session: Session, product: Product, actor: Actor, action: str, details: dict[str, Any]) -> None:
    audit.record(session, actor=actor.username, action=action, at=product.clock.now(),
                 agency_code=actor.agency_code, details=details)
