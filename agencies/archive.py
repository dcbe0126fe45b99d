"""The case file (卷宗) of a complaint whose process has ended, as one ZIP fixed by its SHA-256.

Its entries, sorted by name:

- ``卷内目录.pdf`` — the index: each file's number, name, document number or source, date, pages or size;
- ``案件信息.pdf`` — the complaint's facts, the parties' data whole (it is the handling agency's own file);
- ``办理记录.pdf`` — the audit timeline of the complaint's process instances and its linked cases;
- ``文书/<文号> <标题>.pdf`` — each official document as the party was given it;
- ``证据材料/<nn> <文件名>`` — each piece of evidence as uploaded;
- ``manifest.json`` — every other entry's name, size and SHA-256.

The same content gives the same bytes: every entry carries the archive time as its timestamp, the PDFs are
dated by it, and the entries are sorted. Once archived (``archived_at``, ``archive_sha256``) the complaint no
longer changes (``agencies.complaints.refuse_if_archived``).
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from agencies import labels
from agencies.blobs import BlobStore, sha256_of
from agencies.case_file_pages import (
    IndexRow,
    Line,
    chinese_time,
    describe,
    facts_pdf,
    index_pdf,
    render_html_pdf,
    timeline_pdf,
    who,
)
from agencies.regions import ancestors, region_name
from agencies.tables import Agency, Attachment, Case, Complaint, ComplaintAgency, Document, User
from engine.clock import SHANGHAI, chinese_date
from engine.db.tables import AuditEvent, OpenTask, ProcessInstance
from engine.errors import Conflict

AUDIT_ACTION = "complaint.archived"
INDEX_NAME = "卷内目录.pdf"
FACTS_NAME = "案件信息.pdf"
TIMELINE_NAME = "办理记录.pdf"
MANIFEST_NAME = "manifest.json"
DOCUMENTS_DIR = "文书"
EVIDENCE_DIR = "证据材料"
COMPLETED = "completed"  # a process instance's status once it has ended
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


def handling_agency_id(complaint: Complaint) -> int:
    """The agency whose file the complaint is: its competent agency, else the one that received it."""
    return complaint.competent_agency_id or complaint.received_by_id


def process_ended_at(session: Session, complaint: Complaint) -> datetime | None:
    """When the complaint's own process ended (its instance completed: closed, settled, rejected …); ``None``
    while it runs or if it never started."""
    if complaint.process_instance_id is None:
        return None
    row = session.execute(select(ProcessInstance.status, ProcessInstance.updated_at).where(
        ProcessInstance.id == complaint.process_instance_id)).one_or_none()
    return row.updated_at if row is not None and row.status == COMPLETED else None


def complaint_of_own_task(session: Session, task_id: str) -> Complaint | None:
    """The complaint whose own process instance the open task belongs to; ``None`` for another process's
    task (a linked case's) or no such task."""
    return session.scalar(select(Complaint).join(OpenTask, and_(
        OpenTask.complaint_id == Complaint.id, OpenTask.instance_id == Complaint.process_instance_id))
        .where(OpenTask.id == task_id))


def ended_unarchived_before(session: Session, before: datetime, agency_id: int | None) -> list[int]:
    """The complaints whose own process ended before ``before`` and that are not archived, by id; only those
    ``agency_id`` handles when one is given."""
    query = (select(Complaint.id).join(ProcessInstance, ProcessInstance.id == Complaint.process_instance_id)
             .where(ProcessInstance.status == COMPLETED, ProcessInstance.updated_at < before,
                    Complaint.archived_at.is_(None)).order_by(Complaint.id))
    if agency_id is not None:
        query = query.where(or_(Complaint.competent_agency_id == agency_id,
                                and_(Complaint.competent_agency_id.is_(None), Complaint.received_by_id == agency_id)))
    return list(session.scalars(query))


def safe_name(name: str) -> str:
    """A file name that stays one path part inside the ZIP, on any system."""
    cleaned = _UNSAFE.sub("_", name).strip(" .")
    return cleaned[:150] or "未命名"


def size_text(size: int) -> str:
    if size < 1024:
        return f"{size} 字节"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


@dataclass(frozen=True)
class CaseFile:
    data: bytes
    names: list[str]  # the ZIP's entries, in order

    @property
    def sha256(self) -> str:
        return sha256_of(self.data)


@dataclass(frozen=True)
class _Entry:
    name: str
    data: bytes
    index: IndexRow | None  # its line in the index (None: the index itself, the manifest)


def build_case_file(session: Session, blobs: BlobStore, complaint: Complaint, now: datetime) -> CaseFile:
    """The complaint's case file as of ``now`` (the archive time); ``Conflict`` if a document's or an
    attachment's stored bytes are missing (a case file is complete or not made)."""
    agencies = {a.id: a for a in session.scalars(select(Agency))}
    facts = facts_pdf(complaint.tracking_no, _facts(session, complaint, agencies, now), complaint.description, now)
    timeline = timeline_pdf(complaint.tracking_no, _timeline(session, complaint, agencies), now)
    day = chinese_date(now)
    entries = [
        _Entry(FACTS_NAME, facts.data, IndexRow("案件信息", "投诉登记", chinese_date(complaint.received_at),
                                                f"{facts.pages}页")),
        _Entry(TIMELINE_NAME, timeline.data, IndexRow("办理记录", "系统审计记录", day, f"{timeline.pages}页")),
        *_documents(session, blobs, complaint),
        *_evidence(session, blobs, complaint),
    ]
    entries = _unique(entries)
    handler = agencies.get(handling_agency_id(complaint))
    rows = [e.index for e in entries if e.index is not None]  # facts, record, documents, evidence
    index = index_pdf(complaint.tracking_no, complaint.subject, handler.name if handler else "", rows, now)
    entries.append(_Entry(INDEX_NAME, index.data, None))
    manifest = {"tracking_no": complaint.tracking_no, "archived_at": now.isoformat(),
                "entries": [{"name": e.name, "size": len(e.data), "sha256": sha256_of(e.data)}
                            for e in sorted(entries, key=lambda e: e.name)]}
    entries.append(_Entry(MANIFEST_NAME, json.dumps(manifest, ensure_ascii=False, indent=2).encode(), None))
    return _zip(entries, now)


def mark_archived(session: Session, complaint: Complaint, sha256: str, now: datetime) -> None:
    """Record the archive on the complaint, once: ``Conflict`` when it was archived meanwhile."""
    done = session.execute(update(Complaint).where(Complaint.id == complaint.id, Complaint.archived_at.is_(None))
                           .values(archived_at=now, archive_sha256=sha256, updated_at=now)
                           .execution_options(synchronize_session=False))
    if getattr(done, "rowcount", 0) != 1:
        raise Conflict("该投诉件已归档 / the complaint is archived already")
    session.refresh(complaint)


def _unique(entries: list[_Entry]) -> list[_Entry]:
    """Entries whose names repeat get （2）, （3） … before the extension."""
    seen: set[str] = set()
    out = []
    for entry in entries:
        name, n = entry.name, 1
        while name in seen:
            n += 1
            stem, dot, ext = entry.name.rpartition(".")
            name = f"{stem}（{n}）.{ext}" if dot and "/" not in ext else f"{entry.name}（{n}）"
        seen.add(name)
        out.append(_Entry(name, entry.data, entry.index))
    return out


def _zip(entries: list[_Entry], now: datetime) -> CaseFile:
    local = now.astimezone(SHANGHAI)
    stamp = (local.year, local.month, local.day, local.hour, local.minute, local.second)
    buffer = io.BytesIO()
    ordered = sorted(entries, key=lambda e: e.name)
    with zipfile.ZipFile(buffer, "w") as archive:
        for entry in ordered:
            info = zipfile.ZipInfo(entry.name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # the same header whichever system builds it
            info.external_attr = 0o644 << 16
            archive.writestr(info, entry.data, compresslevel=6)
    return CaseFile(buffer.getvalue(), [e.name for e in ordered])


def _documents(session: Session, blobs: BlobStore, complaint: Complaint) -> Iterable[_Entry]:
    for doc in session.scalars(select(Document).where(Document.complaint_id == complaint.id)
                               .order_by(Document.created_at, Document.id)):
        data = blobs.get(session, doc.sha256) if doc.sha256 else None
        if doc.sha256 and data is None:
            raise Conflict(f"文书 {doc.doc_no} 的文件缺失，不能归档 / the PDF of document {doc.doc_no} is missing")
        pdf = data if data is not None else render_html_pdf(doc.html)  # not rendered yet: from its fixed text
        name = f"{DOCUMENTS_DIR}/{safe_name(f'{doc.doc_no} {doc.title}')}.pdf"
        yield _Entry(name, pdf, IndexRow(doc.title, doc.doc_no, chinese_date(doc.created_at), size_text(len(pdf))))


def _evidence(session: Session, blobs: BlobStore, complaint: Complaint) -> Iterable[_Entry]:
    rows = session.scalars(select(Attachment).where(Attachment.complaint_id == complaint.id)
                           .order_by(Attachment.uploaded_at, Attachment.id))
    for n, row in enumerate(rows, 1):
        data = blobs.get(session, row.sha256)
        if data is None:
            raise Conflict(f"证据材料 {row.filename} 的文件缺失，不能归档 / the file of attachment {row.id} is missing")
        source = "投诉人提交" if row.uploaded_by == "public" else f"{row.uploaded_by} 上传"
        yield _Entry(f"{EVIDENCE_DIR}/{n:02d} {safe_name(row.filename)}", data,
                     IndexRow(f"证据材料：{row.filename}", source, chinese_date(row.uploaded_at), size_text(len(data))))


def _region(code: str) -> str:
    return "".join(region_name(c) or "" for c in (*reversed(ancestors(code)), code)) or code


def _facts(session: Session, complaint: Complaint, agencies: dict[int, Agency],
           now: datetime) -> list[tuple[str, str]]:
    def name(agency_id: int | None) -> str:
        agency = agencies.get(agency_id) if agency_id is not None else None
        return agency.name if agency else ""

    involvement = select(ComplaintAgency).where(ComplaintAgency.complaint_id == complaint.id)
    involved = "、".join(f"{name(row.agency_id)}（{labels.involvement_label(row.role)}）"
                        for row in session.scalars(involvement.order_by(ComplaintAgency.agency_id)))
    cases = "、".join(f"{c.case_no}（{labels.case_status_label(c.status)}）" for c in session.scalars(
        select(Case).where(Case.complaint_id == complaint.id).order_by(Case.id)))
    ended = process_ended_at(session, complaint)
    amount = f"¥{Decimal(complaint.amount):,.2f}" if complaint.amount is not None else ""
    return [
        ("投诉编号", complaint.tracking_no),
        ("类型", labels.kind_label(complaint.kind)),
        ("类别", labels.category_label(complaint.category)),
        ("状态", labels.status_label(complaint.status)),
        ("登记时间", chinese_time(complaint.received_at)),
        ("登记单位", name(complaint.received_by_id)),
        ("承办单位", name(complaint.competent_agency_id)),
        ("参与单位", involved),
        ("投诉人", complaint.complainant_name),
        ("联系电话", complaint.complainant_phone),
        ("身份证号码", complaint.complainant_id_number or ""),
        ("电子邮箱", complaint.complainant_email or ""),
        ("被投诉经营者", complaint.business_name),
        ("统一社会信用代码", complaint.business_uscc or ""),
        ("经营者所在地区", _region(complaint.business_region_code)),
        ("经营地址", complaint.business_address or ""),
        ("所属平台", complaint.business_platform or ""),
        ("平台经营者统一社会信用代码", complaint.business_platform_uscc or ""),
        ("事项", complaint.subject),
        ("涉及金额", amount),
        ("发生日期", chinese_date(complaint.occurred_on)),
        ("办结时间", chinese_time(ended) if ended else ""),
        ("关联案件", cases),
        ("归档时间", chinese_time(now)),
    ]


def _timeline(session: Session, complaint: Complaint, agencies: dict[int, Agency]) -> list[Line]:
    """The audit events of the complaint, of its process instances and of its linked cases, oldest first."""
    instances = select(ProcessInstance.id).where(ProcessInstance.complaint_id == complaint.id)
    cases = select(Case.id).where(Case.complaint_id == complaint.id)
    case_instances = select(Case.process_instance_id).where(Case.complaint_id == complaint.id,
                                                            Case.process_instance_id.is_not(None))
    events = list(session.scalars(select(AuditEvent).where(or_(
        AuditEvent.complaint_id == complaint.id, AuditEvent.instance_id.in_(instances),
        AuditEvent.instance_id.in_(case_instances), AuditEvent.case_id.in_(cases)))
        .order_by(AuditEvent.at, AuditEvent.id)))
    actors = {e.actor for e in events}
    users = {u.username: (u.display_name, agencies[u.agency_id].name if u.agency_id in agencies else None)
             for u in session.scalars(select(User).where(User.username.in_(actors)))} if actors else {}
    names = {**{a.code: a.name for a in agencies.values()}, **{k: v[0] for k, v in users.items()}}
    assignees = {str(e.details["after"].get("assignee")) for e in events if e.action == "task.assigned"
                 and isinstance(e.details, dict) and isinstance(e.details.get("after"), dict)}
    missing = assignees - set(users)
    if missing:
        names.update({u.username: u.display_name for u in session.scalars(select(User).where(
            User.username.in_(missing)))})
    titles = {e.task_id: f"「{e.details['title']}」" for e in events if e.action == "task.completed" and e.task_id
              and isinstance(e.details, dict) and e.details.get("title")}
    still_open = {e.task_id for e in events if e.task_id and e.task_id not in titles}
    if still_open:
        titles.update({row.id: f"「{row.title}」" for row in session.execute(
            select(OpenTask.id, OpenTask.title).where(OpenTask.id.in_(still_open)))})
    lines = []
    for event in events:
        details = event.details if isinstance(event.details, dict) else {}
        what, note = describe(event.action, details, titles.get(event.task_id or "", "任务"), names)
        lines.append(Line(chinese_time(event.at), who(event.actor, users), what, note))
    return lines
