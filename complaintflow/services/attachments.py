"""Evidence files of a complaint: attach one (staff), attach several with a public submission, list them and
read one back.

Only the agencies involved in a complaint see or add its evidence; to anyone else the complaint and its files
answer ``NotFound``, like missing ones. A file is checked (size, type by content, name) before anything is
stored; the bytes go to the product's blob store and the ``attachments`` row and audit event are written in
one unit of work. When that unit of work fails, the bytes a file store wrote for it are removed again
(the blob store removes its bytes after a rollback): no file without a row, no row without a file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from agencies.attachments import (
    MAX_FILES_AT_INTAKE,
    TOO_MANY,
    CheckedFile,
    FileRefused,
    add_attachment,
    attachments_of,
    check_file,
    limit_bytes,
    note_of,
)
from agencies.blobs import BlobStore
from agencies.complaints import is_involved, refuse_if_archived
from agencies.repository import get_agency_by_code, get_complaint
from agencies.tables import Agency, Attachment, Complaint
from complaintflow.wiring import Product
from engine import audit
from engine.actors import Actor
from engine.db.tables import OpenTask
from engine.errors import FieldError, InvalidInput, NotFound

AUDIT_ACTION = "attachment.added"
PUBLIC_UPLOADER = "public"
FILES_FIELD = "files"  # the intake form's field of evidence files
NOT_FOUND = "未找到投诉件 / complaint not found"
ATTACHMENT_NOT_FOUND = "未找到附件 / attachment not found"


@dataclass(frozen=True)
class AttachmentInfo:
    """An attachment as its readers see it."""

    id: int
    complaint_id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    note: str | None
    uploaded_by: str
    agency_id: int | None
    task_id: str | None
    uploaded_at: datetime

    @classmethod
    def of(cls, row: Attachment) -> AttachmentInfo:
        return cls(row.id, row.complaint_id, row.filename, row.content_type, row.size, row.sha256, row.note,
                   row.uploaded_by, row.agency_id, row.task_id, row.uploaded_at)


def size_limit(product: Product) -> int:
    """The largest file accepted, in bytes (``COMPLAINTFLOW_MAX_ATTACHMENT_MB``, else 20 MB)."""
    return limit_bytes(product.settings.complaintflow_max_attachment_mb)


def _involved_complaint(session: Session, complaint_id: int, actor: Actor) -> tuple[Complaint, Agency]:
    agency = get_agency_by_code(session, actor.agency_code) if actor.agency_code else None
    complaint = get_complaint(session, complaint_id) if agency is not None else None
    if agency is None or complaint is None or not is_involved(session, complaint.id, agency.id):
        raise NotFound(NOT_FOUND)
    return complaint, agency


def attach(product: Product, complaint_id: int, filename: str, data: bytes, note: str | None, actor: Actor,
           task_id: str | None = None) -> AttachmentInfo:
    """Attach one file to the complaint for the actor's agency (see the module's rules). ``FileRefused``
    (413 too large, 415 a type not allowed, 422) before anything is stored; ``NotFound`` for a complaint the
    agency is not involved in, or a ``task_id`` that is not an open task of it; ``Conflict`` once archived."""
    checked = check_file(filename, data, size_limit(product))
    text = note_of(note)
    with product.uow() as uow:
        session = uow.session
        complaint, agency = _involved_complaint(session, complaint_id, actor)
        refuse_if_archived(complaint)
        if task_id is not None and session.scalar(select(OpenTask.id).where(
                OpenTask.id == task_id, OpenTask.complaint_id == complaint.id)) is None:
            raise NotFound("未找到任务 / task not found")
        now = product.clock.now()
        row = _store(session, product.blobs, complaint, checked, text, actor.username, agency, task_id, now)
        info = AttachmentInfo.of(row)
        uow.commit()
        return info


def _store(session: Session, blobs: BlobStore, complaint: Complaint, checked: CheckedFile, note: str | None,
           uploaded_by: str, agency: Agency | None, task_id: str | None, now: datetime) -> Attachment:
    """The bytes in the store, the row, the audit event (a rollback removes the bytes again)."""
    digest = blobs.put(session, checked.data, now)
    row = add_attachment(session, complaint_id=complaint.id, checked=checked, sha256=digest, note=note,
                         uploaded_by=uploaded_by, agency_id=agency.id if agency is not None else None,
                         task_id=task_id, now=now)
    audit.record(session, actor=uploaded_by, action=AUDIT_ACTION, at=now,
                 agency_code=agency.code if agency is not None else None, complaint_id=complaint.id, task_id=task_id,
                 details={"attachment_id": row.id, "filename": row.filename, "content_type": row.content_type,
                          "size": row.size, "sha256": row.sha256})
    return row


# ---- at intake ------------------------------------------------------------------------------------


def check_intake_files(product: Product, files: Sequence[tuple[str, bytes]]) -> list[CheckedFile]:
    """The evidence of a submission, every file checked before anything is stored: ``InvalidInput`` naming
    ``files`` (and the file) for the first one refused, or for more than ``MAX_FILES_AT_INTAKE``."""
    if len(files) > MAX_FILES_AT_INTAKE:
        raise InvalidInput([FieldError(FILES_FIELD, TOO_MANY)])
    limit = size_limit(product)
    checked = []
    for name, data in files:
        try:
            checked.append(check_file(name, data, limit))
        except FileRefused as refused:
            raise InvalidInput([FieldError(FILES_FIELD, f"{name}：{refused.message}" if name else refused.message)]
                               ) from None
    return checked


def attach_at_intake(session: Session, blobs: BlobStore, complaint: Complaint, files: Sequence[CheckedFile],
                     actor: Actor | None, now: datetime) -> list[Attachment]:
    """The submission's evidence, in the transaction that registers the complaint (``actor`` ``None``: the
    public form, recorded as uploaded by ``public``; staff: their agency)."""
    agency = get_agency_by_code(session, actor.agency_code) if actor is not None and actor.agency_code else None
    uploader = actor.username if actor is not None else PUBLIC_UPLOADER
    return [_store(session, blobs, complaint, checked, None, uploader, agency, None, now)
            for checked in files]


# ---- reading --------------------------------------------------------------------------------------


def list_attachments(product: Product, complaint_id: int, actor: Actor) -> list[AttachmentInfo]:
    """The complaint's attachments, oldest first; ``NotFound`` unless the actor's agency is involved."""
    with product.reader() as uow:
        complaint, _ = _involved_complaint(uow.session, complaint_id, actor)
        return [AttachmentInfo.of(row) for row in attachments_of(uow.session, complaint.id)]


def read_attachment(product: Product, attachment_id: int, actor: Actor) -> tuple[AttachmentInfo, bytes]:
    """One attachment and its bytes; ``NotFound`` for a missing one and for one of a complaint the actor's
    agency is not involved in (the same answer)."""
    with product.reader() as uow:
        session = uow.session
        row = session.get(Attachment, attachment_id)
        if row is None:
            raise NotFound(ATTACHMENT_NOT_FOUND)
        try:
            _involved_complaint(session, row.complaint_id, actor)
        except NotFound:
            raise NotFound(ATTACHMENT_NOT_FOUND) from None
        data = product.blobs.get(session, row.sha256)
        if data is None:
            raise NotFound(ATTACHMENT_NOT_FOUND)
        return AttachmentInfo.of(row), data
