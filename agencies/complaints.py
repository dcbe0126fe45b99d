"""Registering complaints (登记), the complainant's tracking lookup, and the reads jurisdiction needs:
the platform's regulator (Order 20 art. 12), the regulator holding a complaint at acceptance and the
supervising agency that may designate another one (指定管辖)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from agencies.errors import TrackingNumberClash
from agencies.identity import uscc_region_code
from agencies.intake import ComplaintIn, require_real_identity
from agencies.repository import agencies_by_code, competent_regulator, get_complaint, involve
from agencies.tables import Agency, Complaint, ComplaintAgency
from agencies.tracking import (
    hash_tracking_code,
    new_tracking_code,
    new_tracking_no,
    normalize_tracking_no,
    verify_tracking_code,
)
from agencies.vocab import AgencyKind, ComplaintStatus, Involvement, Role
from engine.actors import Actor
from engine.clock import ensure_aware
from engine.db.tables import OpenTask
from engine.deadlines.rules import base_rule
from engine.errors import Conflict

_TRACKING_NO_ATTEMPTS = 8

REGULATOR_POOL = AgencyKind.MARKET_REGULATOR.value
"""The pool (process) whose tasks the competent market regulator works: pools are named after a kind."""
ACCEPTANCE_RULE = "acceptance"
"""The deadline rule of the acceptance decision (受理审查): a task that runs on it is at the acceptance stage."""


def register_complaint(
    session: Session,
    data: ComplaintIn,
    *,
    received_by: Agency,
    competent: Agency | None,
    now: datetime,
    tracking_key: bytes,
) -> tuple[Complaint, str]:
    """Create the complaint row (status ``registered``) and its involvement rows; return it
    with the secret tracking code, which exists only in this return value from now on.

    Enforces the real-identity rule for the receiving agency (``ValidationError`` on
    ``complainant.id_number``). The competent agency is involved before the receiving one, so an
    agency that is both is recorded as ``competent``. ``tracking_key`` (derived from the
    product's secret key) signs the tracking code. Starting the workflow is the caller's next step
    (it sets ``process_instance_id``).
    """
    require_real_identity(data, received_by.kind)
    now = ensure_aware(now)
    key = tracking_key
    tracking_no = _free_tracking_no(session, data.received_at)
    code = new_tracking_code()
    complaint = Complaint(
        tracking_no=tracking_no,
        tracking_code_hash=hash_tracking_code(tracking_no, code, key),
        kind=data.kind.value,
        status=ComplaintStatus.REGISTERED.value,
        received_at=data.received_at,
        received_by_id=received_by.id,
        competent_agency_id=competent.id if competent is not None else None,
        complainant_name=data.complainant.name,
        complainant_phone=data.complainant.phone,
        complainant_id_number=data.complainant.id_number,
        complainant_email=data.complainant.email,
        business_name=data.business.name,
        business_region_code=data.business.region_code,
        business_address=data.business.address,
        business_uscc=data.business.uscc,
        business_platform=data.business.platform,
        business_platform_uscc=data.business.platform_uscc,
        category=data.category.value,
        subject=data.subject,
        description=data.description,
        amount=data.amount,
        occurred_on=data.occurred_on,
        process_instance_id=None,
        created_at=now,
        updated_at=now,
    )
    session.add(complaint)
    session.flush()
    if competent is not None:
        involve(session, complaint.id, competent.id, Involvement.COMPETENT)
    involve(session, complaint.id, received_by.id, Involvement.RECEIVING)
    return complaint, code


def _free_tracking_no(session: Session, received_at: datetime) -> str:
    """A random tracking number not yet in use. Two registrations drawing the same number in
    the same instant would still be stopped by the unique constraint (the unit of work retries)."""
    for _ in range(_TRACKING_NO_ATTEMPTS):
        candidate = new_tracking_no(received_at)
        if session.scalar(select(Complaint.id).where(Complaint.tracking_no == candidate)) is None:
            return candidate
    raise TrackingNumberClash(_TRACKING_NO_ATTEMPTS)


def find_by_tracking(
    session: Session, tracking_no: str, code: str, *, tracking_key: bytes
) -> Complaint | None:
    """The complaint for the public tracking page, only if number and code match.

    Wrong number and wrong code look the same to the caller; a malformed number (failed check
    digit) is refused before touching the database.
    """
    key = tracking_key
    normalized = normalize_tracking_no(tracking_no)
    if normalized is None:
        return None
    complaint = session.scalar(select(Complaint).where(Complaint.tracking_no == normalized))
    if complaint is None:
        verify_tracking_code(normalized, code, "v1$" + "0" * 64, key)  # same work as a miss on the code
        return None
    return complaint if verify_tracking_code(normalized, code, complaint.tracking_code_hash, key) else None


# ---- jurisdiction ------------------------------------------------------------------------------


def platform_regulator(session: Session, complaint: Complaint) -> Agency | None:
    """The market regulator where the complaint's e-commerce platform operator is registered (Order 20
    art. 12: complaints about a business on a platform may be handled there): the competent regulator
    of the region code in the operator's USCC. ``None`` without a platform USCC or such a regulator."""
    if complaint.business_platform_uscc is None:
        return None
    region = uscc_region_code(complaint.business_platform_uscc)
    return competent_regulator(session, region) if region is not None else None


def acceptance_tasks(session: Session, complaint: Complaint) -> list[OpenTask]:
    """The complaint's open regulator tasks at the acceptance stage (the acceptance deadline runs on
    them), in its own workflow instance."""
    if complaint.process_instance_id is None:
        return []
    tasks = session.scalars(select(OpenTask).where(
        OpenTask.instance_id == complaint.process_instance_id, OpenTask.process_id == REGULATOR_POOL,
        OpenTask.deadline_rule.is_not(None)).order_by(OpenTask.created_at, OpenTask.id))
    # a province's own version of the rule (``acceptance_<prefix>``) is the acceptance stage too
    return [task for task in tasks if base_rule(task.deadline_rule or "") == ACCEPTANCE_RULE]


def holding_regulator(session: Session, complaint: Complaint) -> Agency | None:
    """The regulator that holds the complaint: the agency of its open regulator-pool tasks when they are
    one agency's, else the complaint's competent agency."""
    codes = set(session.scalars(select(OpenTask.agency_code).where(
        OpenTask.instance_id == complaint.process_instance_id, OpenTask.process_id == REGULATOR_POOL,
        OpenTask.agency_code.is_not(None)))) if complaint.process_instance_id is not None else set()
    if len(codes) == 1:
        code = codes.pop()
        if code is not None:
            return agencies_by_code(session, [code]).get(code)
    return session.get(Agency, complaint.competent_agency_id) if complaint.competent_agency_id else None


def child_regulators(session: Session, parent_id: int) -> list[Agency]:
    """The active market regulators an agency supervises (``parent_id``), by code."""
    return list(session.scalars(select(Agency).where(
        Agency.parent_id == parent_id, Agency.kind == AgencyKind.MARKET_REGULATOR.value,
        Agency.active.is_(True)).order_by(Agency.code)))


def is_involved(session: Session, complaint_id: int, agency_id: int) -> bool:
    return session.scalar(select(ComplaintAgency.role).where(
        ComplaintAgency.complaint_id == complaint_id, ComplaintAgency.agency_id == agency_id)) is not None


@dataclass(frozen=True)
class DesignationChoice:
    """Who may be designated for a complaint by a supervising agency: the regulator holding it, and the
    supervising agency's other active child regulators."""

    supervisor_agency: Agency
    holder: Agency
    targets: list[Agency]


def designation_choice(session: Session, complaint: Complaint, actor: Actor) -> DesignationChoice | None:
    """The choice open to ``actor`` if they are a supervisor of the agency supervising the regulator that
    holds the complaint (指定管辖), else ``None``. Whether the complaint is still at acceptance is the
    caller's question (``acceptance_tasks``)."""
    if Role.SUPERVISOR.value not in actor.roles or actor.agency_code is None:
        return None
    own = agencies_by_code(session, [actor.agency_code]).get(actor.agency_code)
    holder = holding_regulator(session, complaint)
    if own is None or holder is None or holder.parent_id != own.id:
        return None
    return DesignationChoice(own, holder, [a for a in child_regulators(session, own.id) if a.id != holder.id])


def supervises_holder(session: Session, complaint: Complaint, agency_id: int) -> bool:
    """Whether the agency supervises (is the ``parent_id`` of) the regulator holding the complaint."""
    holder = holding_regulator(session, complaint)
    return holder is not None and holder.parent_id == agency_id


def supervised_complaint(session: Session, complaint_id: int, actor: Actor) -> Complaint | None:
    """The complaint if ``actor`` is a supervisor of the agency supervising the regulator holding it (who
    may see it to designate it, 指定管辖) though their own agency is not involved; else ``None``."""
    complaint = get_complaint(session, complaint_id)
    if complaint is None or designation_choice(session, complaint, actor) is None:
        return None
    return complaint


def refuse_if_archived(complaint: Complaint) -> None:
    """An archived complaint no longer changes: its case file is fixed by a hash (409 for any change)."""
    if complaint.archived_at is not None:
        raise Conflict("该投诉件已归档，不能再修改 / the complaint is archived and no longer changes")
