"""Read models for the API: what an agency may see, shaped for responses, personal data masked in
lists and, in a complaint's detail and timeline, by the viewing agency's part in the complaint."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import Row, Select, func, or_, select
from sqlalchemy.orm import Session

from agencies.businesses import complaint_against, complaints_against
from agencies.identity import InvalidNumber, normalize_phone
from agencies.labels import category_label, deadline_label, status_label
from agencies.masking import (
    PersonalField,
    Relationship,
    complainant_name_for,
    mask_name,
    mask_personal_data,
    relationship_to,
    scrub,
)
from agencies.tables import Agency, Case, Complaint, ComplaintAgency, User
from engine.clock import SHANGHAI
from engine.db.tables import AuditEvent, OpenTask
from engine.diagram_state import RunningTimer, diagram_state, running_timers
from engine.errors import NotFound
from engine.specs import SpecCache


def task_out(task: OpenTask | Row[Any], now: datetime) -> dict[str, Any]:
    """A task for the API, from the ORM object or a row of ``open_tasks``."""
    return {
        "id": task.id, "instance_id": task.instance_id, "complaint_id": task.complaint_id,
        "task_name": task.task_name, "title": task.title, "process_id": task.process_id, "lane": task.lane,
        "agency_code": task.agency_code, "assignee": task.assignee, "deadline_rule": task.deadline_rule,
        "due_at": task.due_at, "provisional": task.provisional, "suspended": task.suspended_at is not None,
        "overdue": task.due_at is not None and task.suspended_at is None and task.due_at < now,
        "created_at": task.created_at,
    }


@dataclass(frozen=True)
class InboxComplaint:
    """What an inbox row shows of a task's complaint: the complainant's name already masked (a list)."""

    tracking_no: str
    subject: str
    complainant: str


def inbox_context(session: Session, rows: Sequence[Row[Any]]) -> tuple[dict[int, InboxComplaint], dict[str, str]]:
    """For a page of inbox rows (``engine.task_inbox``, which reads the task index alone): their
    complaints by id, and the assignees' display names by username — two reads by primary or unique
    key, whatever the backlog."""
    ids = {row.complaint_id for row in rows if row.complaint_id is not None}
    usernames = {row.assignee for row in rows if row.assignee is not None}
    complaints = {c.id: InboxComplaint(c.tracking_no, c.subject, mask_name(c.complainant_name))
                  for c in session.execute(select(Complaint.id, Complaint.tracking_no, Complaint.subject,
                                                  Complaint.complainant_name).where(Complaint.id.in_(ids)))
                  } if ids else {}
    names = {u.username: u.display_name for u in session.execute(
        select(User.username, User.display_name).where(User.username.in_(usernames)))} if usernames else {}
    return complaints, names


def agency_codes(session: Session) -> dict[int, str]:
    return {row.id: row.code for row in session.execute(select(Agency.id, Agency.code))}


def _visible_complaints(agency_id: int) -> Select[Complaint]:
    return select(Complaint).join(ComplaintAgency, ComplaintAgency.complaint_id == Complaint.id).where(
        ComplaintAgency.agency_id == agency_id)


def personal_data(complaint: Complaint) -> dict[PersonalField, str | None]:
    return {PersonalField.ID_NUMBER: complaint.complainant_id_number, PersonalField.PHONE: complaint.complainant_phone,
            PersonalField.EMAIL: complaint.complainant_email}


def complaint_summary(complaint: Complaint, codes: dict[int, str],
                      seen: dict[PersonalField, str | None] | None = None) -> dict[str, Any]:
    """A list row: personal data masked for everyone (``seen``: the detail's values, masked by role)."""
    seen = seen if seen is not None else mask_personal_data(personal_data(complaint), None)
    return {
        "id": complaint.id, "tracking_no": complaint.tracking_no, "kind": complaint.kind, "status": complaint.status,
        "category": complaint.category, "subject": complaint.subject, "received_at": complaint.received_at,
        "received_by": codes.get(complaint.received_by_id, "?"),
        "competent_agency": codes.get(complaint.competent_agency_id) if complaint.competent_agency_id else None,
        "complainant_name": complaint.complainant_name,
        "complainant_phone": seen[PersonalField.PHONE],
        "business_name": complaint.business_name,
    }


@dataclass(frozen=True)
class ComplaintSearch:
    """What a complaint search asks for; every part optional.

    ``q`` finds a complaint by its tracking number, subject, business or description (a part of any of
    them) or by the complainant's phone number, whole, as typed in any usual form (``138 1234 5678``,
    ``+86 13812345678``, ``0558 8123456``): the phone is stored normalized, so it is compared with the
    normalized query, exactly, never by a part (a few digits must not list strangers' complaints)."""

    statuses: Collection[str] | None = None
    kind: str | None = None
    q: str | None = None
    received_from: date | None = None
    received_to: date | None = None


def search_complaints(session: Session, agency_id: int, search: ComplaintSearch, *, limit: int,
                      offset: int) -> tuple[list[Complaint], int]:
    """The complaints the agency is involved in that match, newest receipt first, and how many match."""
    query = _visible_complaints(agency_id)
    if search.statuses:
        query = query.where(Complaint.status.in_(list(search.statuses)))
    if search.kind:
        query = query.where(Complaint.kind == search.kind)
    text = search.q.strip() if search.q else ""
    if text:
        matches = [Complaint.tracking_no.contains(text.upper(), autoescape=True),
                   Complaint.subject.contains(text, autoescape=True),
                   Complaint.business_name.contains(text, autoescape=True),
                   Complaint.description.contains(text, autoescape=True)]
        phone = _as_phone(text)
        if phone is not None:
            matches.append(Complaint.complainant_phone == phone)
        query = query.where(or_(*matches))
    if search.received_from:
        query = query.where(Complaint.received_at >= datetime.combine(search.received_from, time.min, SHANGHAI))
    if search.received_to:
        query = query.where(Complaint.received_at <= datetime.combine(search.received_to, time.max, SHANGHAI))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Complaint.received_at.desc(), Complaint.id.desc())
                           .limit(limit).offset(offset)).all()
    return list(rows), total


def _as_phone(text: str) -> str | None:
    """The phone number a search text is, as complaints store it; ``None`` when it is no phone number."""
    try:
        return normalize_phone(text)
    except InvalidNumber:
        return None


def list_complaints(session: Session, agency_id: int, *, status: str | None, kind: str | None, q: str | None,
                    received_from: date | None, received_to: date | None, limit: int,
                    offset: int) -> tuple[list[dict[str, Any]], int]:
    search = ComplaintSearch([status] if status else None, kind, q, received_from, received_to)
    rows, total = search_complaints(session, agency_id, search, limit=limit, offset=offset)
    codes = agency_codes(session)
    return [complaint_summary(c, codes) for c in rows], total


def timer_out(timer: RunningTimer) -> dict[str, Any]:
    """A running timer for a person: its deadline's Chinese name (调解期限) beside the instant."""
    return {"element_id": timer.element_id, "due_at": timer.due_at, "rule": timer.rule,
            "label": deadline_label(timer.rule, timer.name)}


def complaint_diagram(session: Session, specs: SpecCache, complaint: Complaint) -> dict[str, Any]:
    """The complaint's own process on its diagram (``engine.diagram_state``): the one read behind the API's
    ``GET /api/v1/complaints/{id}/diagram`` and the pages' ``/complaints/{id}/diagram.json``."""
    if complaint.process_instance_id is None:
        raise NotFound("该投诉没有办理流程 / the complaint has no process")
    state = diagram_state(session, specs, complaint.process_instance_id)
    return {"instance_id": state.instance_id, "spec_key": state.spec_key, "spec_version": state.spec_version,
            "bpmn_xml": state.bpmn_xml, "completed": list(state.completed), "current": list(state.current),
            "suspended": list(state.suspended), "timers": [timer_out(t) for t in state.timers]}


def complaint_timers(session: Session, specs: SpecCache, complaint: Complaint) -> list[dict[str, Any]]:
    """The running timers of the complaint's process (the mediation time limit, …), soonest first."""
    if complaint.process_instance_id is None:
        return []
    return [timer_out(t) for t in running_timers(session, specs, complaint.process_instance_id)]


@dataclass(frozen=True)
class AgencyNames:
    """Every agency's name, by id and by code (a page names agencies where the API gives codes)."""

    by_id: dict[int, str]
    by_code: dict[str, str]


def agency_names(session: Session) -> AgencyNames:
    rows = session.execute(select(Agency.id, Agency.code, Agency.name)).all()
    return AgencyNames({row.id: row.name for row in rows}, {row.code: row.name for row in rows})


def display_names(session: Session, usernames: Collection[str]) -> dict[str, str]:
    """The display names of these users, by username (one read by unique key)."""
    if not usernames:
        return {}
    return {row.username: row.display_name for row in session.execute(
        select(User.username, User.display_name).where(User.username.in_(list(usernames))))}


def users_with_agency(session: Session, usernames: Collection[str]) -> dict[str, tuple[str, str | None]]:
    """(display name, agency name) of these users, by username (one read by unique key)."""
    if not usernames:
        return {}
    return {row.username: (row.display_name, row.name) for row in session.execute(
        select(User.username, User.display_name, Agency.name).outerjoin(Agency, Agency.id == User.agency_id)
        .where(User.username.in_(list(usernames))))}


def open_task_titles(session: Session, task_ids: Collection[str]) -> dict[str, str]:
    """The titles of those of these tasks that are still open, by id (from the task index)."""
    if not task_ids:
        return {}
    return {row.id: row.title for row in session.execute(
        select(OpenTask.id, OpenTask.title).where(OpenTask.id.in_(list(task_ids))))}


def visible_complaint(session: Session, complaint_id: int, agency_id: int) -> Complaint:
    complaint = session.scalar(_visible_complaints(agency_id).where(Complaint.id == complaint_id))
    if complaint is None:
        raise NotFound("complaint not found")
    return complaint


def case_out(case: Case, codes: dict[int, str]) -> dict[str, Any]:
    return {"id": case.id, "case_no": case.case_no, "agency_code": codes.get(case.agency_id, "?"),
            "complaint_id": case.complaint_id, "process_instance_id": case.process_instance_id,
            "status": case.status, "decision": case.decision, "filed_at": case.filed_at,
            "decided_at": case.decided_at}


def relationship_of(session: Session, complaint: Complaint, agency_id: int) -> Relationship:
    """The viewing agency's part in the complaint (``agencies.masking.relationship_to``)."""
    row = session.execute(select(Agency.kind, ComplaintAgency.role).outerjoin(
        ComplaintAgency, (ComplaintAgency.agency_id == Agency.id) & (ComplaintAgency.complaint_id == complaint.id))
        .where(Agency.id == agency_id)).one_or_none()
    kind, role = (row.kind, row.role) if row is not None else (None, None)
    return relationship_to(agency_id=agency_id, agency_kind=kind, involvement=role,
                           competent_agency_id=complaint.competent_agency_id)


def complaint_detail(session: Session, complaint: Complaint, now: datetime, agency_id: int) -> dict[str, Any]:
    """The whole complaint, the complainant's personal data whole only as far as the viewing agency's
    part in it allows (``agencies.masking.visible_personal_data``)."""
    codes = agency_codes(session)
    involved = {codes[row.agency_id]: row.role for row in session.scalars(
        select(ComplaintAgency).where(ComplaintAgency.complaint_id == complaint.id))}
    seen = mask_personal_data(personal_data(complaint), relationship_of(session, complaint, agency_id))
    tasks = session.scalars(select(OpenTask).where(OpenTask.complaint_id == complaint.id)
                            .order_by(OpenTask.created_at)).all()
    cases = session.scalars(select(Case).where(Case.complaint_id == complaint.id).order_by(Case.id)).all()
    return {
        **complaint_summary(complaint, codes, seen),
        "complainant_id_number": seen[PersonalField.ID_NUMBER], "complainant_email": seen[PersonalField.EMAIL],
        "business_region_code": complaint.business_region_code, "business_address": complaint.business_address,
        "business_uscc": complaint.business_uscc, "business_platform": complaint.business_platform,
        "description": complaint.description,
        "amount": f"{complaint.amount:.2f}" if complaint.amount is not None else None,
        "occurred_on": complaint.occurred_on, "process_instance_id": complaint.process_instance_id,
        "involved_agencies": involved, "current_tasks": [task_out(t, now) for t in tasks],
        "cases": [case_out(c, codes) for c in cases],
    }


def events(session: Session, complaint: Complaint, agency_id: int) -> list[dict[str, Any]]:
    """The complaint's audit timeline. Details hold form data people typed (reasons, summaries), which
    may repeat the complainant's ID number or phone: what the viewing agency may not see is masked
    there too."""
    values = personal_data(complaint)
    seen = mask_personal_data(values, relationship_of(session, complaint, agency_id))
    hidden = {whole: masked for field, whole in values.items()
              if whole and (masked := seen[field]) is not None and masked != whole}
    rows = session.scalars(select(AuditEvent).where(AuditEvent.complaint_id == complaint.id)
                           .order_by(AuditEvent.at, AuditEvent.id))
    return [{"id": row.id, "at": row.at, "actor": row.actor, "action": row.action, "task_id": row.task_id,
             "details": scrub(row.details or {}, hidden)} for row in rows]


def visible_cases(session: Session, agency_id: int) -> Select[Case]:
    involved = select(ComplaintAgency.complaint_id).where(ComplaintAgency.agency_id == agency_id)
    return select(Case).where(or_(Case.agency_id == agency_id, Case.complaint_id.in_(involved)))


# ---- the task page ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StaffMember:
    """An active user of an agency, as a task page offers them for a hand-over."""

    username: str
    display_name: str
    roles: tuple[str, ...]


def agency_staff(session: Session, agency_id: int) -> list[StaffMember]:
    """The agency's active users, by display name. Which of them may work a task's lane is the
    runner's lane policy to say, not this read's."""
    rows = session.execute(select(User.username, User.display_name, User.roles)
                           .where(User.agency_id == agency_id, User.active.is_(True))
                           .order_by(User.display_name, User.username))
    return [StaffMember(row.username, row.display_name, tuple(row.roles or ())) for row in rows]


@dataclass(frozen=True)
class AgencyChoice:
    code: str
    name: str


def active_agencies(session: Session) -> list[AgencyChoice]:
    """Every active agency's code and name (suggestions for a form field that names an agency)."""
    rows = session.execute(select(Agency.code, Agency.name).where(Agency.active.is_(True)).order_by(Agency.code))
    return [AgencyChoice(row.code, row.name) for row in rows]


@dataclass(frozen=True)
class TaskComplaint:
    """What a task page shows of the task's complaint: the complainant's name masked (as in a list), the
    phone as the viewing agency's part in the complaint allows (as in the complaint's detail)."""

    complaint: Complaint
    complainant: str
    phone: str | None
    category: str  # in Chinese
    status: str  # in Chinese
    amount: str | None  # ¥3,299.00


def task_complaint(session: Session, complaint_id: int, agency_id: int) -> TaskComplaint | None:
    """The complaint of a task, if the agency is involved in it."""
    try:
        complaint = visible_complaint(session, complaint_id, agency_id)
    except NotFound:
        return None
    seen = mask_personal_data(personal_data(complaint), relationship_of(session, complaint, agency_id))
    return TaskComplaint(complaint, mask_name(complaint.complainant_name), seen[PersonalField.PHONE],
                         category_label(complaint.category), status_label(complaint.status),
                         f"¥{complaint.amount:,.2f}" if complaint.amount is not None else None)


# ---- a business's own users -----------------------------------------------------------------------------


def business_complaint_page(session: Session, business_id: int, *, limit: int, offset: int,
                            status: str | None = None) -> tuple[list[Complaint], int]:
    """The complaints against the business (``agencies.businesses.complaints_against``), of ``status`` when
    given, newest receipt first, and how many there are: the business's API and pages list the same."""
    query = complaints_against(business_id)
    if status:
        query = query.where(Complaint.status == status)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Complaint.received_at.desc(), Complaint.id.desc())
                           .limit(limit).offset(offset)).all()
    return list(rows), total


def business_complaint(session: Session, business_id: int, complaint_id: int) -> Complaint | None:
    """The complaint if it is against the business; ``None`` for another business's, as for a missing one."""
    return complaint_against(session, business_id, complaint_id)


@dataclass(frozen=True)
class BusinessSeen:
    """The complainant as the business complained about sees them (``agencies.masking``, relationship
    ``business``): the name, phone and e-mail masked, the ID number never."""

    name: str
    phone: str | None
    email: str | None


def business_seen(complaint: Complaint) -> BusinessSeen:
    seen = mask_personal_data({PersonalField.PHONE: complaint.complainant_phone,
                               PersonalField.EMAIL: complaint.complainant_email}, Relationship.BUSINESS)
    return BusinessSeen(complainant_name_for(complaint.complainant_name, Relationship.BUSINESS),
                        seen[PersonalField.PHONE], seen[PersonalField.EMAIL])


def business_task_complaint(session: Session, complaint_id: int, business_id: int) -> TaskComplaint | None:
    """The complaint of a business's task as its task page shows it to the business (masked as above)."""
    complaint = complaint_against(session, business_id, complaint_id)
    if complaint is None:
        return None
    seen = business_seen(complaint)
    return TaskComplaint(complaint, seen.name, seen.phone, category_label(complaint.category),
                         status_label(complaint.status),
                         f"¥{complaint.amount:,.2f}" if complaint.amount is not None else None)


def party_open_tasks(session: Session, complaint_id: int, code: str) -> list[OpenTask]:
    """The complaint's open tasks worked under ``code`` (a business's party code), oldest first."""
    return list(session.scalars(select(OpenTask).where(OpenTask.complaint_id == complaint_id,
                                                       OpenTask.agency_code == code)
                                .order_by(OpenTask.created_at, OpenTask.id)))


def business_staff(session: Session, business_id: int) -> list[StaffMember]:
    """The business's active users, by display name (as ``agency_staff`` for an agency)."""
    rows = session.execute(select(User.username, User.display_name, User.roles)
                           .where(User.business_id == business_id, User.active.is_(True))
                           .order_by(User.display_name, User.username))
    return [StaffMember(row.username, row.display_name, tuple(row.roles or ())) for row in rows]
