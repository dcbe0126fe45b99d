"""Official documents (文书): made as PDF when the workflow reaches their step, numbered, kept for good.

A complainant notice that announces a decision comes with its document: the notice's template names
the kind (``NOTICE_DOCUMENTS``). In the transaction of the transition that queues the notice, the
document is numbered (文号: the agency's short name, the kind's word, the year in 〔〕 and the per-agency,
per-year sequence, e.g. ``太市监不受〔2026〕3号``), written as HTML from its template
(``agencies/document_templates``), rendered to PDF with the Noto CJK fonts embedded, stored in the blob
store, and recorded in ``documents``. It is part of that audited transition (the task completion or
timer that caused it): a rolled-back transition leaves neither number nor document.

A document is never made twice for one notice: it is recorded with the notice's key (unique), and a
notice whose document exists gets that one back, PDF and number unchanged. What a party was given stays
what it was.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy import select
from sqlalchemy.orm import Session

from agencies.blobs import BlobStore
from agencies.notices import notice_date, with_agency_names
from agencies.pdf import html_to_pdf
from agencies.repository import get_agency_by_code, get_complaint
from agencies.tables import Agency, Case, Complaint, Document, DocumentSequence
from agencies.tracking import normalize_tracking_no, verify_tracking_code
from engine.clock import SHANGHAI, ensure_aware
from engine.db.dialect import dialect_insert

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).resolve().parent / "document_templates"
PDF = "application/pdf"
COMPLAINANT = "complainant"


@dataclass(frozen=True)
class DocumentKind:
    """One kind of document: its code, title (文书名称), the word its numbers carry (受, 不受, …), and the
    notice context key naming the signing agency (落款)."""

    kind: str
    title: str
    word: str
    signer: str = "agency"


NOTICE_DOCUMENTS: dict[str, DocumentKind] = {
    "acceptance": DocumentKind("acceptance_notice", "受理通知书", "受"),
    "rejection": DocumentKind("rejection_notice", "不予受理告知书", "不受"),
    "transfer": DocumentKind("transfer_notice", "转送告知书", "转", signer="from_agency"),
    "agreement": DocumentKind("mediation_agreement", "调解协议书", "调"),
    "termination": DocumentKind("termination_notice", "终止调解告知书", "终调"),
    "case_filed": DocumentKind("case_filing_notice", "立案告知书", "立"),
    "case_not_filed": DocumentKind("no_filing_notice", "不予立案告知书", "不立"),
}
"""The complainant notices that carry a document, by notice template."""

KINDS: dict[str, DocumentKind] = {k.kind: k for k in NOTICE_DOCUMENTS.values()}


def format_doc_no(short_name: str, word: str, year: int, seq: int) -> str:
    """``format_doc_no("太市监", "不受", 2026, 3)`` → ``太市监不受〔2026〕3号`` (六角括号 〔〕, no padding)."""
    if not short_name:
        raise ValueError("short_name is required")
    if seq < 1:
        raise ValueError(f"sequence {seq} must be positive")
    return f"{short_name}{word}〔{year}〕{seq}号"


def next_doc_no(session: Session, agency: Agency, year: int, word: str) -> tuple[int, str]:
    """Take the next number of ``agency``'s document sequence for ``year`` with one statement
    (``INSERT … ON CONFLICT DO UPDATE SET last_seq = last_seq + 1 RETURNING last_seq``): concurrent
    transactions queue on the row (PostgreSQL) or the write lock (SQLite) until commit, so a number is
    never given twice; a rolled-back transaction gives its number back."""
    statement = (
        dialect_insert(session, DocumentSequence)
        .values(agency_id=agency.id, year=year, last_seq=1)
        .on_conflict_do_update(index_elements=["agency_id", "year"],
                               set_={"last_seq": DocumentSequence.last_seq + 1})
        .returning(DocumentSequence.last_seq)
    )
    seq = int(session.execute(statement).scalar_one())
    return seq, format_doc_no(agency.short_name, word, year, seq)


def cn_date(value: str | date | datetime | None) -> str:
    """``2026年12月1日``: an ISO date, a date, or the Asia/Shanghai day of a datetime."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    day = ensure_aware(value).astimezone(SHANGHAI).date() if isinstance(value, datetime) else value
    return f"{day.year}年{day.month}月{day.day}日"


@lru_cache(maxsize=1)
def _environment() -> Environment:
    environment = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined,
                              trim_blocks=True, lstrip_blocks=True)
    environment.filters["cn_date"] = cn_date
    return environment


def render_html(kind: DocumentKind, values: Mapping[str, Any]) -> str:
    return _environment().get_template(f"{kind.kind}.html.j2").render(**values)


def document_for_notice(session: Session, key: str) -> Document | None:
    """The document already made for the notice ``key``, if any."""
    return session.scalar(select(Document).where(Document.notice_key == key))


def issue_for_notice(session: Session, blobs: BlobStore, *, complaint_id: int, template: str,
                     context: Mapping[str, Any], key: str, now: datetime) -> Document | None:
    """The document a complainant notice carries: made now (numbered, rendered, stored) or, for a notice
    whose document exists, that one as it is. ``None`` for a notice that carries none, or whose signing
    agency is not known (the notice still goes out, without a document)."""
    kind = NOTICE_DOCUMENTS.get(template)
    if kind is None:
        return None
    existing = document_for_notice(session, key)
    if existing is not None:
        return existing
    complaint = get_complaint(session, complaint_id)
    code = context.get(kind.signer)
    agency = get_agency_by_code(session, code) if isinstance(code, str) else None
    if complaint is None or agency is None:
        log.warning("no %s for complaint %s: signing agency %r unknown", kind.kind, complaint_id, code)
        return None
    issued = ensure_aware(now)
    year = issued.astimezone(SHANGHAI).year
    seq, doc_no = next_doc_no(session, agency, year, kind.word)
    html = render_html(kind, _values(session, complaint, agency, kind, context, doc_no, key, issued))
    pdf = html_to_pdf(html)
    sha256 = blobs.put(session, pdf, issued)
    document = Document(
        complaint_id=complaint.id, case_id=_case_id(session, context), kind=kind.kind, title=kind.title,
        agency_id=agency.id, year=year, seq=seq, doc_no=doc_no, recipient=COMPLAINANT, notice_key=key, html=html,
        sha256=sha256, size=len(pdf), created_at=issued, rendered_at=issued)
    session.add(document)
    session.flush()
    return document


def _values(session: Session, complaint: Complaint, agency: Agency, kind: DocumentKind, context: Mapping[str, Any],
            doc_no: str, key: str, now: datetime) -> dict[str, Any]:
    """What a document's template reads: the notice's facts (agency names beside their codes), the
    complaint's, and the document's own (title, number, date, signer)."""
    values: dict[str, Any] = {"ground_label": "", "reason": "", "summary": "", "outcome": "", "source": "complaint",
                              "agreement_text": "", "case_no": "", "to_agency_name": "", "agency_kind": agency.kind}
    values.update({k: v for k, v in with_agency_names(session, context).items() if v is not None})
    values.update(title=kind.title, doc_no=doc_no, doc_date=notice_date(now),
                  agency_name=agency.name, addressee=complaint.complainant_name, tracking_no=complaint.tracking_no,
                  complainant_name=complaint.complainant_name, business_name=complaint.business_name,
                  received_at=complaint.received_at)
    return values


def _case_id(session: Session, context: Mapping[str, Any]) -> int | None:
    case_no = context.get("case_no")
    if not isinstance(case_no, str):
        return None
    return session.scalar(select(Case.id).where(Case.case_no == case_no))


def filename_of(document: Document) -> str:
    """The file's name as the party saves it: the document's title, e.g. ``不予受理告知书.pdf``."""
    return f"{document.title}.pdf"


# ---- reading --------------------------------------------------------------------------------------


def complaint_documents(session: Session, complaint_id: int) -> list[Document]:
    """A complaint's documents, oldest first."""
    return list(session.scalars(select(Document).where(Document.complaint_id == complaint_id)
                                .order_by(Document.created_at, Document.id)))


def get_document(session: Session, document_id: int) -> Document | None:
    return session.get(Document, document_id)


def document_pdf(session: Session, blobs: BlobStore, document: Document) -> bytes | None:
    """The stored PDF, exactly as made (``None`` if its file is missing from the store)."""
    return blobs.get(session, document.sha256) if document.sha256 else None


def complainant_document(session: Session, document_id: int, code: str, *, tracking_key: bytes,
                         tracking_no: str | None = None) -> Document | None:
    """A document for its complainant: only when ``code`` is the tracking code of the document's complaint
    (and ``tracking_no``, when given, its number). A missing document, another complaint's and a wrong code
    answer alike, after the same work."""
    document = session.get(Document, document_id)
    complaint = get_complaint(session, document.complaint_id) if document is not None else None
    if complaint is None or (tracking_no is not None and normalize_tracking_no(tracking_no) != complaint.tracking_no):
        verify_tracking_code(tracking_no or "TS0000000000000000", code, "v1$" + "0" * 64, tracking_key)
        return None
    return document if verify_tracking_code(complaint.tracking_no, code, complaint.tracking_code_hash,
                                            tracking_key) else None
