"""Archiving (归档): a complaint whose own process has ended becomes a case file (卷宗), a ZIP fixed by its
SHA-256 and kept in the blob store; from then on the complaint no longer changes.

Who may: a supervisor of the handling agency (the complaint's competent agency, else the one that received
it). A complaint the actor's agency may not see answers 404 (as reading it would); anyone else who sees it
403. When: once the complaint's own process instance has completed (closed, settled, rejected …), and only
once (409 otherwise). Building the file, storing it, marking the complaint and the audit event are one unit
of work.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time

from sqlalchemy.orm import Session

from agencies import archive as case_files
from agencies.complaints import is_involved, refuse_if_archived, supervised_complaint
from agencies.repository import get_agency_by_code, get_complaint
from agencies.tables import Complaint
from agencies.vocab import Role
from complaintflow.wiring import Product
from engine import audit
from engine.clock import SHANGHAI
from engine.errors import Conflict, EngineError, Forbidden, NotFound
from engine.runner import Actor

NOT_FOUND = "未找到投诉件 / complaint not found"
NOT_ENDED = "投诉件尚未办结，不能归档 / the complaint's process has not ended"
ONLY_SUPERVISOR = "只有承办单位的负责人可以归档 / only a supervisor of the handling agency may archive the complaint"


@dataclass(frozen=True)
class Archived:
    complaint_id: int
    tracking_no: str
    archived_at: datetime
    sha256: str
    size: int


def archive(product: Product, complaint_id: int, actor: Actor) -> Archived:
    """Archive the complaint (see the module's rules)."""
    return _archive(product, complaint_id, actor, administrator=False)


@dataclass
class BatchReport:
    archived: list[str] = field(default_factory=list)  # tracking numbers
    failed: list[tuple[str, str]] = field(default_factory=list)  # (tracking number, why)


def archive_closed_before(product: Product, day: date, actor: Actor,
                          progress: Callable[[int], None] = lambda _n: None,
                          started: Callable[[int], None] = lambda _total: None) -> BatchReport:
    """Archive every complaint whose own process ended before ``day`` (00:00 China time) and is not archived
    yet: all of them for the command line's administrator, those of the actor's agency for a supervisor. One
    unit of work per complaint: a refusal or failure is reported and the rest go on. ``started`` hears the
    number found, ``progress`` each one done."""
    administrator = Role.ADMIN.value in actor.roles and actor.agency_code is None
    with product.reader() as uow:
        own = get_agency_by_code(uow.session, actor.agency_code) if actor.agency_code else None
        if not administrator and (own is None or Role.SUPERVISOR.value not in actor.roles):
            raise Forbidden(ONLY_SUPERVISOR)
        found = case_files.ended_unarchived_before(uow.session, datetime.combine(day, time(), SHANGHAI),
                                                   None if administrator or own is None else own.id)
    started(len(found))
    report = BatchReport()
    for complaint_id in found:
        try:
            report.archived.append(_archive(product, complaint_id, actor, administrator=administrator).tracking_no)
        except EngineError as error:
            report.failed.append((_tracking_no(product, complaint_id), str(error)))
        progress(1)
    return report


def _tracking_no(product: Product, complaint_id: int) -> str:
    with product.reader() as uow:
        complaint = uow.session.get(Complaint, complaint_id)
        return complaint.tracking_no if complaint is not None else str(complaint_id)


def _archive(product: Product, complaint_id: int, actor: Actor, *, administrator: bool) -> Archived:
    with product.uow() as uow:  # a rollback removes the case file's bytes again (the blob store's hook)
        session = uow.session
        complaint = get_complaint(session, complaint_id)
        if complaint is None:
            raise NotFound(NOT_FOUND)
        if not administrator:
            _check_may_archive(session, complaint, actor)
        refuse_if_archived(complaint)
        if case_files.process_ended_at(session, complaint) is None:
            raise Conflict(NOT_ENDED)
        now = product.clock.now()
        built = case_files.build_case_file(session, product.blobs, complaint, now)
        product.blobs.put(session, built.data, now)
        case_files.mark_archived(session, complaint, built.sha256, now)
        audit.record(session, actor=actor.username, action=case_files.AUDIT_ACTION, at=now,
                     agency_code=actor.agency_code, instance_id=complaint.process_instance_id,
                     complaint_id=complaint.id,
                     details={"sha256": built.sha256, "size": len(built.data), "entries": built.names})
        uow.commit()
        return Archived(complaint.id, complaint.tracking_no, now, built.sha256, len(built.data))


def _check_may_archive(session: Session, complaint: Complaint, actor: Actor) -> None:
    """404 unless the actor's agency may see the complaint (involved in it, or supervising the regulator
    holding it); 403 unless the actor is a supervisor of its handling agency."""
    own = get_agency_by_code(session, actor.agency_code) if actor.agency_code else None
    if own is None or not (is_involved(session, complaint.id, own.id)
                           or supervised_complaint(session, complaint.id, actor) is not None):
        raise NotFound(NOT_FOUND)
    if Role.SUPERVISOR.value not in actor.roles or own.id != case_files.handling_agency_id(complaint):
        raise Forbidden(ONLY_SUPERVISOR)
