"""Creating staff and business accounts and checking their passwords."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from agencies.businesses import party_code
from agencies.errors import InvalidUser
from agencies.passwords import dummy_hash, hash_password, password_problem, verify_password
from agencies.repository import get_user
from agencies.tables import Agency, Business, User
from agencies.vocab import Role
from engine.clock import ensure_aware
from engine.errors import FieldError, InvalidInput
from engine.runner import Actor

_ROLE_VALUES = frozenset(role.value for role in Role)


def create_user(
    session: Session,
    *,
    username: str,
    display_name: str,
    password: str,
    agency: Agency | None,
    roles: Iterable[str | Role],
    now: datetime,
    email: str | None = None,
    business: Business | None = None,
) -> User:
    """Add an active user. Every user belongs to an agency except an administrator, whose work
    (specs, agencies, calendars) is not any one agency's, and a business's own user (role
    ``business``, with ``business``), who belongs to that business and to no agency."""
    requested = [str(role) for role in roles]
    unknown = [role for role in requested if role not in _ROLE_VALUES]
    if unknown or not requested:
        raise InvalidUser(username, f"角色须为 {'、'.join(sorted(_ROLE_VALUES))} 中的一个或多个 / roles must be some "
                                     f"of {sorted(_ROLE_VALUES)}, got {requested!r}")
    role_list = list(dict.fromkeys(requested))
    if business is not None or Role.BUSINESS in role_list:
        _check_business_user(username, agency, business, role_list)
    elif agency is None and Role.ADMIN not in role_list:
        raise InvalidUser(username, "无机构的账号只能是管理员 / only an administrator may have no agency")
    user = User(
        username=username,
        display_name=display_name,
        password_hash=_acceptable_hash(password, username, display_name),
        agency_id=agency.id if agency is not None else None,
        roles=role_list,
        email=email,
        active=True,
        created_at=ensure_aware(now),
        session_epoch=0,
        business_id=business.id if business is not None else None,
    )
    session.add(user)
    session.flush()
    return user


def _check_business_user(username: str, agency: Agency | None, business: Business | None, roles: list[str]) -> None:
    """A business's user holds the role ``business`` alone, belongs to one business and to no agency:
    it must never pass for an agency's staff or an administrator."""
    if business is None or agency is not None or roles != [Role.BUSINESS.value]:
        raise InvalidUser(username, "经营者账号须属于一个经营者、不属于任何机构，且只有经营者角色 / a business user "
                                    "belongs to one business, to no agency, and holds the role business only")


def set_password(user: User, password: str) -> None:
    """Give ``user`` a new password (it must meet the policy) and end every sign-in made with the old one."""
    user.password_hash = _acceptable_hash(password, user.username, user.display_name)
    end_sessions(user)


def end_sessions(user: User) -> None:
    """Every token and web session issued to ``user`` so far stops working at its next request."""
    user.session_epoch = (user.session_epoch or 0) + 1


def end_agency_sessions(session: Session, agency_id: int) -> None:
    """Likewise for every user of an agency (when the agency is deactivated)."""
    session.execute(update(User).where(User.agency_id == agency_id)
                    .values(session_epoch=User.session_epoch + 1).execution_options(synchronize_session="fetch"))


def _acceptable_hash(password: str, username: str, display_name: str) -> str:
    problem = password_problem(password, username, display_name)
    if problem is not None:
        raise InvalidInput([FieldError("password", problem)])
    return hash_password(password)


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with this username and password, else ``None``.

    An unknown username still costs one Argon2 verification, so response time does not tell
    which usernames exist. Rate limiting is the web layer's job.
    """
    return check_password(get_user(session, username), password)


def check_password(user: User | None, password: str) -> User | None:
    """``user`` if it is active and ``password`` is its password, else ``None``; the Argon2 half of
    ``authenticate``, apart so a server can look the user up, give back its connection, then hash."""
    if user is None or not user.active:
        verify_password(password, dummy_hash())
        return None
    return user if verify_password(password, user.password_hash) else None


def actor_for(session: Session, user: User) -> Actor:
    """The engine's view of a user: name, agency code and roles (what lanes and isolation check). A
    business's user works its business's tasks under the business's party code
    (``agencies.businesses.party_code``) with the role ``business``."""
    agency = session.get(Agency, user.agency_id) if user.agency_id is not None else None
    return Actor(user.username, worker_code(agency.code if agency is not None else None, user.business_id),
                 frozenset(user.roles))


def worker_code(agency_code: str | None, business_id: int | None) -> str | None:
    """Whose tasks a user works: their agency's, else their business's (as a party code)."""
    if agency_code is not None:
        return agency_code
    return party_code(business_id) if business_id is not None else None


def business_of(session: Session, user: User) -> Business | None:
    """The business a business user acts for (``None`` for staff and administrators)."""
    return session.get(Business, user.business_id) if user.business_id is not None else None
