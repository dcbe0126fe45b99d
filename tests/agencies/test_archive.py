"""The case file (卷宗): a complaint whose process has ended is archived by a supervisor of its handling
agency into one ZIP fixed by its SHA-256; who may, when, and that an archived complaint no longer changes
(a linked case's process runs on). Through the service layer, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import datetime, timedelta
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import select, update

from agencies.archive import build_case_file
from agencies.tables import Attachment, Complaint
from complaintflow.services.archive import archive
from complaintflow.services.jurisdiction import designate
from complaintflow.services.odr import answer_offer
from complaintflow.services.tasks import claim_task, complete_task, suspend_task
from engine.db.tables import AuditEvent
from engine.errors import Conflict, Forbidden, NotFound
from tests.workflows.scenario import CONSENTED, ODR_BUSINESS, Scenario

SUPERVISOR = "th-amr.supervisor"
AGREEMENT = {"outcome": "agreement", "summary": "双方达成一致", "agreement_text": "商家退款 3299 元",
             "violation_found": False}
RECEIPT = b"\xff\xd8\xff\xe0 a receipt photo " + bytes(range(256))


def closed_complaint(s: Scenario, **overrides: Any) -> Complaint:
    """A complaint run to its end: accepted, mediated to an agreement, closed and followed up."""
    c = s.submit(**overrides)
    s.do("th-amr", "review", {"decision": "accept"}, c)
    s.do("th-amr", "arrange_mediation", {**CONSENTED, "mediator": "self"}, c)
    s.do("th-amr", "mediate", AGREEMENT, c)
    s.do("th-amr", "close", {"result": "已办结"}, c)
    s.do("th-amr", "follow_up", {"satisfaction": "satisfied"}, c)
    assert s.open_task_names(c) == []
    return s.complaint(c.id)


def attach(s: Scenario, c: Complaint, filename: str = "购物小票.jpg", data: bytes = RECEIPT) -> str:
    """Evidence as the attachment code stores it: the bytes in the blob store, a row naming them."""
    with s.product.uow() as uow:
        digest = s.product.blobs.put(uow.session, data, s.clock.now())
        uow.session.add(Attachment(complaint_id=c.id, filename=filename, content_type="image/jpeg", size=len(data),
                                   sha256=digest, note=None, uploaded_by="public", agency_id=None, task_id=None,
                                   uploaded_at=s.clock.now()))
        uow.commit()
    return digest


def stored_zip(s: Scenario, sha256: str) -> bytes:
    with s.product.reader() as uow:
        data = s.product.blobs.get(uow.session, sha256)
    assert data is not None
    return data


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_a_closed_complaint_becomes_a_complete_case_file(s: Scenario) -> None:
    c = closed_complaint(s)
    evidence = attach(s, c)
    s.clock.advance(timedelta(days=3))
    done = archive(s.product, c.id, s.actor(SUPERVISOR))

    data = stored_zip(s, done.sha256)
    assert hashlib.sha256(data).hexdigest() == done.sha256 and len(data) == done.size
    files = zipfile.ZipFile(io.BytesIO(data))
    names = files.namelist()
    assert names == sorted(names)
    assert {"卷内目录.pdf", "案件信息.pdf", "办理记录.pdf", "manifest.json", "证据材料/01 购物小票.jpg"} <= set(names)
    documents = [n for n in names if n.startswith("文书/")]
    if documents:  # the documents the workflow issued (受理通知书, 调解协议书), when the documents code made them
        assert all(n.endswith(".pdf") and "〔2026〕" in n for n in documents)
    assert files.read("证据材料/01 购物小票.jpg") == RECEIPT and hashlib.sha256(RECEIPT).hexdigest() == evidence
    # every entry carries the archive time, in China's time
    assert {info.date_time for info in files.infolist()} == {(2026, 11, 21, 9, 30, 0)}

    manifest = json.loads(files.read("manifest.json"))
    assert manifest["tracking_no"] == c.tracking_no
    listed = {e["name"]: e for e in manifest["entries"]}
    assert set(listed) == set(names) - {"manifest.json"}
    for name, entry in listed.items():
        content = files.read(name)
        assert entry["size"] == len(content) and entry["sha256"] == hashlib.sha256(content).hexdigest()

    index = pdf_text(files.read("卷内目录.pdf"))
    assert "卷" in index and "目" in index and c.tracking_no in index
    assert "案件信息" in index and "办理记录" in index and "购物小票.jpg" in index and "投诉人提交" in index
    facts = pdf_text(files.read("案件信息.pdf"))
    # the agency's own file: the complainant's data whole
    for whole in (c.tracking_no, "张三", "13812345678", c.complainant_id_number or "", "太和县某某电器商行",
                  "空调制冷故障", "已办结", "安徽省阜阳市太和县", "2026年11月21日"):
        assert whole in facts, whole
    record = pdf_text(files.read("办理记录.pdf"))
    assert c.tracking_no in record and "启动投诉处理流程" in record and "受理审查" in record
    assert "太和县市场监督管理局" in record and "双方达成一致" in record

    row = s.complaint(c.id)
    assert (row.archived_at, row.archive_sha256) == (done.archived_at, done.sha256)
    assert row.status == "closed"  # the status stays; archived is said beside it
    with s.product.reader() as uow:
        event = uow.session.scalars(select(AuditEvent).where(
            AuditEvent.complaint_id == c.id, AuditEvent.action == "complaint.archived")).one()
    assert (event.actor, event.agency_code, event.details["sha256"]) == (SUPERVISOR, "th-amr", done.sha256)


def test_the_same_content_gives_the_same_bytes(s: Scenario) -> None:
    c = closed_complaint(s)
    attach(s, c, "合同.pdf", b"%PDF-1.4 contract")
    at = datetime.fromisoformat("2026-12-01T10:00:00+08:00")
    with s.product.reader() as uow:
        complaint = uow.session.get(Complaint, c.id)
        assert complaint is not None
        first = build_case_file(uow.session, s.product.blobs, complaint, at)
        second = build_case_file(uow.session, s.product.blobs, complaint, at)
        later = build_case_file(uow.session, s.product.blobs, complaint, at + timedelta(days=1))
    assert first.data == second.data and first.sha256 == second.sha256
    assert later.sha256 != first.sha256  # the archive time is part of the file


def test_who_may_archive_and_when(s: Scenario) -> None:
    c = closed_complaint(s)
    running = s.submit()
    with pytest.raises(Forbidden, match="只有承办单位的负责人可以归档"):
        archive(s.product, c.id, s.actor("th-amr.liaison"))
    with pytest.raises(NotFound):  # another agency's complaint is not there for it
        archive(s.product, c.id, s.actor("lq-amr.supervisor"))
    with pytest.raises(NotFound):
        archive(s.product, 999_999, s.actor(SUPERVISOR))
    with pytest.raises(Conflict, match="投诉件尚未办结，不能归档"):
        archive(s.product, running.id, s.actor(SUPERVISOR))
    archive(s.product, c.id, s.actor(SUPERVISOR))
    with pytest.raises(Conflict, match="已归档"):
        archive(s.product, c.id, s.actor(SUPERVISOR))
    assert s.complaint(running.id).archived_at is None
    assert s.audit_actions(c).count("complaint.archived") == 1


def test_a_rejected_complaint_is_archived_and_its_case_runs_on(s: Scenario) -> None:
    c = s.submit()
    s.do("th-amr", "review", {"decision": "reject", "reason": "非生活消费", "ground": "not_consumer_dispute",
                              "violation_found": True, "violation_description": "经营者无照经营"}, c)
    assert s.complaint(c.id).status == "rejected" and s.open_task_names(c) == ["verify_clue"]
    done = archive(s.product, c.id, s.actor(SUPERVISOR))
    record = pdf_text(zipfile.ZipFile(io.BytesIO(stored_zip(s, done.sha256))).read("办理记录.pdf"))
    assert "启动诉转案流程" in record  # the linked case's process is in the record
    # the case's own process is not the complaint's: its work goes on
    s.do("th-amr", "verify_clue", {"decision": "file", "reason": "证据充分，建议立案"}, c)
    assert s.open_task_names(c) == ["decide_filing"]


def mark_archived(s: Scenario, c: Complaint) -> None:
    """An archived complaint whose own process still waits (only a test makes one: archiving needs the end)."""
    with s.product.uow() as uow:
        uow.session.execute(update(Complaint).where(Complaint.id == c.id).values(
            archived_at=s.clock.now(), archive_sha256="0" * 64))
        uow.commit()


def test_an_archived_complaint_no_longer_changes(s: Scenario) -> None:
    c = s.submit()
    review = s.task("th-amr", "review", c)
    mark_archived(s, c)
    liaison = s.actor("th-amr.liaison")
    with pytest.raises(Conflict, match="已归档"):
        claim_task(s.product, review.id, liaison)
    with pytest.raises(Conflict, match="已归档"):
        complete_task(s.product, review.id, {"decision": "accept"}, liaison)
    with pytest.raises(Conflict, match="已归档"):
        suspend_task(s.product, review.id, liaison, "送检")
    with pytest.raises(Conflict, match="已归档"):
        designate(s.product, c.id, "lq-amr", "经营者实际经营地在临泉县", s.actor("fy-amr.supervisor"))
    assert s.open_task_names(c) == ["review"] and s.task("th-amr", "review", c).assignee is None
    assert s.audit_actions(c) == ["instance.started"]


def test_an_archived_complaint_takes_no_answer_to_an_offer(s: Scenario) -> None:
    c = s.submit(received_by=None, business=ODR_BUSINESS)
    s.business_do("business_respond", {"response": "settle", "offer": "全额退款", "explanation": "同意退货"}, c)
    mark_archived(s, c)
    with pytest.raises(Conflict, match="已归档"):
        answer_offer(s.product, c.tracking_no, s.codes[c.id], True)
    assert s.complaint(c.id).status == "negotiating"
