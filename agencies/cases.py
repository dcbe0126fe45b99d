"""Cases (案件) from complaint-to-case conversion and their numbers: a case is created when the
agency's head decides to file (立案; the workflow calls ``file_case()``), numbered per agency and year."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from agencies.numbering import format_case_no
from agencies.repository import involve
from agencies.tables import Agency, Case, CaseSequence
from agencies.vocab import CaseStatus, Involvement
from engine.clock import SHANGHAI, ensure_aware
from engine.db.dialect import dialect_insert


def next_case_no(session: Session, agency: Agency, year: int) -> tuple[int, str]:
    """Take the next number of ``agency``'s sequence for ``year``: ``(17, "太市监诉转案〔2026〕17号")``.

    One statement, ``INSERT … ON CONFLICT (agency_id, year) DO UPDATE SET last_seq = last_seq + 1
    RETURNING last_seq``: the first number of a year creates the row, later ones bump it, and the
    row lock (PostgreSQL) or the write lock (SQLite, ``BEGIN IMMEDIATE``) held until commit makes
    concurrent callers queue, so numbers are never repeated. A rolled-back transaction gives its
    number back, so the sequence has no gaps either.
    """
    statement = (
        dialect_insert(session, CaseSequence)
        .values(agency_id=agency.id, year=year, last_seq=1)
        .on_conflict_do_update(index_elements=["agency_id", "year"], set_={"last_seq": CaseSequence.last_seq + 1})
        .returning(CaseSequence.last_seq)
    )
    seq = int(session.execute(statement).scalar_one())
    return seq, format_case_no(agency.short_name, year, seq)


def create_case(
    session: Session,
    *,
    agency: Agency,
    now: datetime,
    complaint_id: int | None = None,
    process_instance_id: int | None = None,
) -> Case:
    """File a case (立案) at ``agency``, numbered in the Shanghai calendar year of ``now``.

    A case from a complaint also involves the agency in that complaint (it already is when it
    is the competent regulator; ``involve`` is idempotent)."""
    filed_at = ensure_aware(now)
    year = filed_at.astimezone(SHANGHAI).year
    seq, case_no = next_case_no(session, agency, year)
    case = Case(
        case_no=case_no,
        agency_id=agency.id,
        year=year,
        seq=seq,
        complaint_id=complaint_id,
        process_instance_id=process_instance_id,
        status=CaseStatus.FILED.value,
        decision=None,
        filed_at=filed_at,
        decided_at=None,
    )
    session.add(case)
    session.flush()
    if complaint_id is not None:
        involve(session, complaint_id, agency.id, Involvement.ENFORCEMENT)
    return case
