"""Businesses as parties to complaints: found or created on intake, and what their own users may read.

A business is kept by its USCC (统一社会信用代码). A complaint that gives none names the business by
name and region: it goes to a business of that name and region that has a USCC if there is one (the
lowest id if, against the registration rules, there are several), else to the one row kept for that
name and region without a USCC. When a later complaint gives the USCC of such a row's business, the row
takes the USCC: one business, one row. A business first seen on intake is not enrolled in online
dispute resolution (``odr`` false); an administrator enrols it.

Functions take the caller's ``Session`` and never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from agencies.identity import InvalidNumber, normalize_uscc
from agencies.regions import region_exists
from agencies.tables import Business, Complaint, User
from engine.clock import ensure_aware
from engine.db.dialect import dialect_insert
from engine.errors import FieldError, InvalidInput

PARTY_PREFIX = "business:"
"""A business works its own workflow tasks (the ``business`` pool) under a party code in place of an
agency code: ``business:<id>``. No agency code contains a colon, so the two never meet."""


def party_code(business_id: int) -> str:
    """The code a business's tasks are indexed under and its users act as."""
    return f"{PARTY_PREFIX}{business_id}"


def business_id_of(code: str | None) -> int | None:
    """The business a party code names (``None`` for an agency code or none)."""
    if code is None or not code.startswith(PARTY_PREFIX):
        return None
    rest = code[len(PARTY_PREFIX):]
    return int(rest) if rest.isdigit() else None


@dataclass(frozen=True)
class BusinessParty:
    """The business as a complaint names it (already validated by intake)."""

    name: str
    region_code: str
    uscc: str | None = None
    address: str | None = None


def find_or_create_business(session: Session, party: BusinessParty, now: datetime) -> Business:
    """The business a complaint is against, created (``odr`` false) when no complaint named it before.

    Race-free: two intakes naming the same new business insert with ``ON CONFLICT DO NOTHING`` on the
    unique USCC (or the unique name and region of a business without one), and the one that loses
    reads the row the other stored."""
    if party.uscc is not None:
        known = session.scalar(select(Business).where(Business.uscc == party.uscc))
        if known is not None:
            return known
        unregistered = session.scalar(select(Business).where(
            Business.uscc.is_(None), Business.name == party.name, Business.region_code == party.region_code)
            .with_for_update())
        if unregistered is not None:
            unregistered.uscc = party.uscc
            session.flush()
            return unregistered
        _insert(session, party, now, ["uscc"], None)
        return session.scalars(select(Business).where(Business.uscc == party.uscc)).one()
    named = by_name(session, party.name, party.region_code)
    if named is not None:
        return named
    _insert(session, party, now, ["name", "region_code"], Business.uscc.is_(None))
    found = by_name(session, party.name, party.region_code)
    assert found is not None  # inserted now, or by the transaction it waited for
    return found


def find_business(session: Session, party: BusinessParty) -> Business | None:
    """The business a complaint names, if one is kept already (a read: nothing is created or locked)."""
    if party.uscc is not None:
        known = session.scalar(select(Business).where(Business.uscc == party.uscc))
        if known is not None:
            return known
    return by_name(session, party.name, party.region_code)


def by_name(session: Session, name: str, region_code: str) -> Business | None:
    """The business a complaint without a USCC means: a registered one of that name and region first."""
    return session.scalars(select(Business).where(Business.name == name, Business.region_code == region_code)
                           .order_by(Business.uscc.is_(None), Business.id).limit(1)).first()


def _insert(session: Session, party: BusinessParty, now: datetime, keys: list[str], where: object) -> None:
    statement = dialect_insert(session, Business).values(
        uscc=party.uscc, name=party.name, region_code=party.region_code, address=party.address, odr=False,
        created_at=ensure_aware(now))
    session.execute(statement.on_conflict_do_nothing(index_elements=keys, index_where=where))


def party_of(complaint: Complaint) -> BusinessParty:
    """The business as the complaint names it."""
    return BusinessParty(complaint.business_name, complaint.business_region_code, complaint.business_uscc,
                         complaint.business_address)


def link_complaint(session: Session, complaint: Complaint, now: datetime) -> Business:
    """Make the complaint's business a party to it (``complaints.business_id``)."""
    business = find_or_create_business(session, party_of(complaint), now)
    complaint.business_id = business.id
    return business


# ---- what an administrator enters ------------------------------------------------------------------


def checked_uscc(value: str | None, field: str = "uscc") -> str | None:
    """A USCC as stored (upper case, checksum verified), ``None`` for none; 422 on ``field`` otherwise."""
    if value is None or not value.strip():
        return None
    try:
        return normalize_uscc(value.strip())
    except InvalidNumber as exc:
        raise InvalidInput([FieldError(field, exc.message.replace(" (", " / ", 1).rstrip(")"))]) from None


def checked_region(value: str, field: str = "region_code") -> str:
    if not region_exists(value):
        raise InvalidInput([FieldError(field, "行政区划代码不存在 / unknown GB/T 2260 region code")])
    return value


def search_businesses(q: str | None, *, odr: bool | None = None) -> Select[Business]:
    """Businesses whose name contains ``q`` or whose USCC starts with it (upper-cased), by name."""
    query = select(Business)
    text = q.strip() if q else ""
    if text:
        query = query.where(or_(Business.name.contains(text, autoescape=True),
                                Business.uscc.startswith(text.upper(), autoescape=True)))
    if odr is not None:
        query = query.where(Business.odr.is_(odr))
    return query


def count(session: Session, query: Select[Business]) -> int:
    return session.scalar(select(func.count()).select_from(query.subquery())) or 0


# ---- what a business's own users see ----------------------------------------------------------------


def complaints_against(business_id: int) -> Select[Complaint]:
    """The complaints against one business: all its users may see, and nothing else."""
    return select(Complaint).where(Complaint.business_id == business_id)


def complaint_against(session: Session, business_id: int, complaint_id: int) -> Complaint | None:
    """The complaint, if it is against this business (``None`` for another's, as for a missing one)."""
    return session.scalar(complaints_against(business_id).where(Complaint.id == complaint_id))


# ---- what an administrator reads ---------------------------------------------------------------------


def business_page(session: Session, q: str | None, *, odr: bool | None = None, limit: int = 50,
                  offset: int = 0) -> tuple[list[Business], int]:
    """One page of ``search_businesses`` by name (then id), and how many match in all."""
    query = search_businesses(q, odr=odr)
    rows = session.scalars(query.order_by(Business.name, Business.id).limit(limit).offset(offset)).all()
    return list(rows), count(session, query)


def get_business(session: Session, business_id: int) -> Business | None:
    return session.get(Business, business_id)


def users_of(session: Session, business_id: int) -> list[User]:
    """A business's own users (role ``business``), active and inactive, by username."""
    return list(session.scalars(select(User).where(User.business_id == business_id).order_by(User.username)))
