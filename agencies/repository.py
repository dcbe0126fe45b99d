"""The lookups the write paths need: agencies by code, routing by jurisdiction, recording
involvement, users and who receives a deadline notice. What the API shows is read in
``web.queries``. Functions take the caller's ``Session`` and never commit: the caller's unit of
work does."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from agencies.regions import ancestors
from agencies.tables import Agency, Complaint, ComplaintAgency, User
from agencies.vocab import AgencyKind, Role
from engine.db.dialect import dialect_insert
from engine.db.session import transaction_memo

# ---- agencies ----------------------------------------------------------------------------------


def get_agency_by_code(session: Session, code: str) -> Agency | None:
    return agencies_by_code(session, [code]).get(code)


def agencies_by_code(session: Session, codes: Iterable[str]) -> dict[str, Agency]:
    """The agencies with these codes (unknown codes are left out), each read once per transaction:
    one transition asks for the same agency to check routing, pick its deadline ladder and name it
    in a notice. Only agencies found are remembered, so one created later in the transaction is seen."""
    known: dict[str, Agency] = transaction_memo(session, "agencies_by_code")
    wanted = list(dict.fromkeys(codes))
    missing = [code for code in wanted if code not in known]
    if missing:
        for agency in session.scalars(select(Agency).where(Agency.code.in_(missing))):
            known[agency.code] = agency
    return {code: known[code] for code in wanted if code in known}


def get_complaint(session: Session, complaint_id: int) -> Complaint | None:
    """The complaint, held for the rest of the transaction (its notices and status hook reuse it)."""
    held: dict[int, Complaint | None] = transaction_memo(session, "complaints")
    if complaint_id not in held:
        held[complaint_id] = session.get(Complaint, complaint_id)
    return held[complaint_id]


def competent_regulator(session: Session, region_code: str) -> Agency | None:
    """The market regulator competent for a business in ``region_code`` (属地管辖).

    The active regulator of that very region, else of the nearest enclosing region (a district
    without its own bureau in the data falls to the city bureau), else ``None``. Several active
    regulators for one region would be a data error; the lowest id wins so routing stays
    deterministic.
    """
    chain = (region_code, *ancestors(region_code))
    candidates = session.scalars(
        select(Agency)
        .where(Agency.kind == AgencyKind.MARKET_REGULATOR, Agency.active.is_(True), Agency.region_code.in_(chain))
        .order_by(Agency.id)
    ).all()
    by_region: dict[str, Agency] = {}
    for agency in candidates:
        by_region.setdefault(agency.region_code, agency)
    return next((by_region[code] for code in chain if code in by_region), None)


# ---- involvement (who may see a complaint) -----------------------------------------------------


def involve(session: Session, complaint_id: int, agency_id: int, role: str) -> bool:
    """Record that an agency is involved in a complaint; ``True`` if it was not before.

    Idempotent and race-free (``INSERT … ON CONFLICT DO NOTHING``): an agency already involved
    keeps its first role.
    """
    statement = (
        dialect_insert(session, ComplaintAgency)
        .values(complaint_id=complaint_id, agency_id=agency_id, role=role)
        .on_conflict_do_nothing(index_elements=["complaint_id", "agency_id"])
        .returning(ComplaintAgency.agency_id)
    )
    return session.execute(statement).scalar_one_or_none() is not None


# ---- users -------------------------------------------------------------------------------------


def get_user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username))


def agency_users(session: Session, agency_id: int, role: str | Role | None = None) -> list[User]:
    """Active users of an agency, optionally only those holding ``role`` (e.g. the liaisons who
    get an unclaimed task's reminder). Roles are a JSON list, filtered here rather than in SQL:
    an agency has a handful of users and the JSON operators differ between backends."""
    users: Sequence[User] = session.scalars(
        select(User).where(User.agency_id == agency_id, User.active.is_(True)).order_by(User.username)
    ).all()
    return [user for user in users if role is None or role in user.roles]


def parent_supervisors(session: Session, agency: Agency) -> list[User]:
    """Supervisors of the supervising agency (上级机关负责人): the last step of the escalation
    ladder (3 working days after due). Empty for a top-level agency."""
    if agency.parent_id is None:
        return []
    return agency_users(session, agency.parent_id, Role.SUPERVISOR)
