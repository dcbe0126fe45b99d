"""Agencies, their people, complaints and cases: the product's domain tables.

Relationships are deliberately not mapped: services pass ids, so nothing lazy-loads behind a
query's back (the inbox and the sweep count their statements).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column

from agencies.vocab import AgencyKind, Category, ComplaintKind, sql_in
from engine.db.base import Base
from engine.db.tables import BigId


class Agency(Base):
    """A consumer association, market regulator or people's mediation committee.

    ``parent_id`` is the supervising agency (上级机关), which receives late escalations;
    ``short_name`` (机关简称) prefixes case numbers, e.g. 太市监.
    """

    __tablename__ = "agencies"
    __table_args__ = (
        CheckConstraint(f"kind IN ({sql_in(AgencyKind)})", name="kind"),
        CheckConstraint("length(region_code) = 6", name="region_code"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    short_name: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(30))
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Business(Base):
    """A business complained about (被投诉人), a party to its complaints.

    Kept by its USCC (统一社会信用代码); a business no complaint has named with a USCC yet is kept
    by name and region, one row per pair (the partial unique index), until a complaint gives its
    USCC. ``odr``: enrolled in online dispute resolution (在线纠纷解决), which lets its users answer
    complaints against it first.
    """

    __tablename__ = "businesses"
    __table_args__ = (
        CheckConstraint("length(region_code) = 6", name="region_code"),
        Index("ix_businesses_region_code_name", "region_code", "name"),
        Index("ix_businesses_unregistered_name", "name", "region_code", unique=True,
              sqlite_where=sql_text("uscc IS NULL"), postgresql_where=sql_text("uscc IS NULL")),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    uscc: Mapped[str | None] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    region_code: Mapped[str] = mapped_column(String(6))
    address: Mapped[str | None] = mapped_column(String(300))
    odr: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sql_text("false"))
    created_at: Mapped[datetime]


class User(Base):
    """A member of staff, or of a business (role ``business``, no agency). Only the system administrator
    and business users belong to no agency."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(255))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    email: Mapped[str | None] = mapped_column(String(254))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    # Tokens and web sessions carry the epoch they were issued in; deactivating the user or their
    # agency, or changing the password, moves it on, which ends every earlier sign-in at once (and a
    # later reactivation does not bring them back).
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # a business user's business: they see only the complaints against it
    business_id: Mapped[int | None] = mapped_column(ForeignKey("businesses.id"), index=True)


class Complaint(Base):
    """A submission (投诉 / 举报 / 咨询) as registered, plus the status the workflow keeps current.

    ``tracking_code_hash`` is an HMAC of the complainant's secret code (see ``agencies.tracking``);
    the code itself is never stored.
    """

    __tablename__ = "complaints"
    __table_args__ = (
        CheckConstraint(f"kind IN ({sql_in(ComplaintKind)})", name="kind"),
        CheckConstraint(f"category IN ({sql_in(Category)})", name="category"),
        CheckConstraint("amount IS NULL OR amount >= 0", name="amount"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tracking_no: Mapped[str] = mapped_column(String(20), unique=True)
    tracking_code_hash: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(30), index=True)
    received_at: Mapped[datetime] = mapped_column(index=True)
    received_by_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    competent_agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    complainant_name: Mapped[str] = mapped_column(String(100))
    complainant_phone: Mapped[str] = mapped_column(String(30))
    complainant_id_number: Mapped[str | None] = mapped_column(String(18))
    complainant_email: Mapped[str | None] = mapped_column(String(254))
    business_name: Mapped[str] = mapped_column(String(200))
    business_region_code: Mapped[str] = mapped_column(String(6))
    business_address: Mapped[str | None] = mapped_column(String(300))
    business_uscc: Mapped[str | None] = mapped_column(String(18))
    business_platform: Mapped[str | None] = mapped_column(String(100))
    # the e-commerce platform operator's USCC (平台经营者): its registration region locates the platform's
    # regulator, which may handle complaints about businesses on the platform
    business_platform_uscc: Mapped[str | None] = mapped_column(String(18))
    category: Mapped[str] = mapped_column(String(30))
    subject: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    occurred_on: Mapped[date | None] = mapped_column(Date)
    process_instance_id: Mapped[int | None] = mapped_column(BigId)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # the business complained about as a party (found or created on intake); the business_* columns
    # keep what the complaint itself said
    business_id: Mapped[int | None] = mapped_column(ForeignKey("businesses.id"), index=True)
    # the case file (卷宗): once archived the complaint no longer changes; the archive's bytes are the blob of
    # this SHA-256
    archived_at: Mapped[datetime | None]
    archive_sha256: Mapped[str | None] = mapped_column(String(64))


class ComplaintAgency(Base):
    """An agency involved in a complaint; staff see only complaints their agency is involved in.

    One row per agency: ``role`` records why it became involved (receiving, competent, mediator,
    …) and follows the complaint as it moves: an agency that transferred or referred it on becomes
    ``transferred_from``, one that works it again ``handler`` (agencies/workflow_hooks.py). With
    ``complaints.competent_agency_id`` it decides the personal data the agency's staff see
    (agencies/masking.py). The ``agency_id`` index serves "complaints my agency is involved in".
    """

    __tablename__ = "complaint_agencies"

    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(30))


class Case(Base):
    """A case (案件) from complaint-to-case conversion (诉转案), numbered per agency and year."""

    __tablename__ = "cases"
    __table_args__ = (UniqueConstraint("agency_id", "year", "seq"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_no: Mapped[str] = mapped_column(String(60), unique=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    complaint_id: Mapped[int | None] = mapped_column(ForeignKey("complaints.id"), index=True)
    process_instance_id: Mapped[int | None] = mapped_column(BigId)
    status: Mapped[str] = mapped_column(String(20))
    decision: Mapped[str | None] = mapped_column(String(30))
    filed_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]


class CaseSequence(Base):
    """The last case number handed out per agency and year; bumped with one atomic upsert."""

    __tablename__ = "case_sequences"

    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer)


class SubmissionKey(Base):
    """A submission already answered, for a while: an ``Idempotency-Key`` the client sent, or the
    fingerprint of a public complaint's content. A repeat within the window gets the first answer (same
    key, same body) or a refusal, never a second complaint; the unique key makes two racing repeats
    store one."""

    __tablename__ = "submission_keys"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    request_sha256: Mapped[str] = mapped_column(String(64))
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"))
    response: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    expires_at: Mapped[datetime] = mapped_column(index=True)


__all__ = ["Agency", "Business", "Case", "CaseSequence", "Complaint", "ComplaintAgency", "SubmissionKey", "User"]


# ---- files: evidence, official documents, case files ---------------------------------------------------


class Blob(Base):
    """A stored file, by the SHA-256 of its bytes, kept once however many attachments, documents or archives
    use it. The row is written in the transaction that stores the file, whatever the store: a file whose
    transaction rolled back has no row, so a file store can tell an orphan. ``data`` holds the bytes in the
    database store (the default on PostgreSQL, where every server process reads the same rows); the
    directory and S3 stores keep them outside and leave it ``NULL``."""

    __tablename__ = "blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    data: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]


class Attachment(Base):
    """Evidence attached to a complaint (a receipt, a photo, a contract): the name as given (made safe),
    the type found in the content, the size and the SHA-256 of the bytes in the blob store."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    note: Mapped[str | None] = mapped_column(String(500))
    uploaded_by: Mapped[str] = mapped_column(String(100))  # a username, or "public" at intake
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))  # the uploader's agency
    task_id: Mapped[str | None] = mapped_column(String(64))
    uploaded_at: Mapped[datetime]


class Document(Base):
    """An official document (文书) of a complaint: numbered per agency and year (``doc_no``), fixed when the
    workflow reached its step (``html``, its text as the party reads it), and rendered to PDF once
    (``sha256`` of the PDF in the blob store): never regenerated, so what a party was given stays."""

    __tablename__ = "documents"
    __table_args__ = (UniqueConstraint("agency_id", "year", "seq"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(100))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    doc_no: Mapped[str] = mapped_column(String(60))
    recipient: Mapped[str] = mapped_column(String(20))  # complainant · business
    notice_key: Mapped[str] = mapped_column(String(200), unique=True)  # the notice that carried it: made once
    html: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str | None] = mapped_column(String(64))
    size: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime]
    rendered_at: Mapped[datetime | None]


class DocumentSequence(Base):
    """The last document number handed out per agency and year; bumped with one atomic upsert."""

    __tablename__ = "document_sequences"

    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer)
