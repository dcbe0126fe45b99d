"""Official documents (文书) made on the reference paths, on SQLite and PostgreSQL: each kind at its
step, its PDF's text and fonts, its number per agency and year, and never made twice."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from agencies.documents import issue_for_notice, next_doc_no
from agencies.repository import get_agency_by_code
from agencies.tables import Complaint, Document
from tests.workflows.scenario import CONSENTED, Scenario

AGREEMENT = {"outcome": "agreement", "summary": "双方达成一致", "agreement_text": "商家退款 3299 元",
             "violation_found": False}
NO_AGREEMENT = {"outcome": "no_agreement", "summary": "商家拒绝退款", "violation_found": False}
REJECT = {"decision": "reject", "reason": "不属于本部门职责范围", "ground": "not_competent", "violation_found": False}
FILE = {"decision": "file", "reason": "证据充分"}
NO_FILE = {"decision": "no_file", "reason": "不构成违法"}
TAIHE = "太和县市场监督管理局"


def pdf_text(data: bytes) -> str:
    """The PDF's text with white space removed (lines wrap anywhere in Chinese)."""
    reader = PdfReader(io.BytesIO(data))
    return re.sub(r"\s+", "", "".join(page.extract_text() or "" for page in reader.pages))


def font_names(data: bytes) -> list[str]:
    """Names of the page fonts whose program is embedded (a descriptor with /FontFile2 or /FontFile3)."""
    names = []
    for page in PdfReader(io.BytesIO(data)).pages:
        resources: Any = page["/Resources"]
        fonts: Any = resources["/Font"]
        for ref in fonts.values():
            font = ref.get_object()
            descriptor = (font["/DescendantFonts"][0].get_object()["/FontDescriptor"] if "/DescendantFonts" in font
                          else font["/FontDescriptor"]).get_object()
            assert "/FontFile2" in descriptor or "/FontFile3" in descriptor, font
            names.append(str(font["/BaseFont"]))
    return names


def documents(s: Scenario, c: Complaint) -> list[Document]:
    with s.product.uow() as uow:
        return list(uow.session.scalars(select(Document).where(Document.complaint_id == c.id).order_by(Document.id)))


def pdf_of(s: Scenario, document: Document) -> bytes:
    with s.product.uow() as uow:
        data = s.product.blobs.get(uow.session, document.sha256 or "")
    assert data is not None
    return data


def accepted(s: Scenario) -> Complaint:
    c = s.submit()
    s.do("th-amr", "review", {"decision": "accept"}, c)
    return c


def mediated(s: Scenario, outcome: dict[str, Any]) -> Complaint:
    c = accepted(s)
    s.do("th-amr", "arrange_mediation", {**CONSENTED, "mediator": "self"}, c)
    s.do("th-amr", "mediate", outcome, c)
    return c


def filing(s: Scenario, decision: dict[str, str]) -> Complaint:
    c = s.submit(kind="report")
    s.do("th-amr", "verify_clue", FILE, c)
    s.do("th-amr", "decide_filing", decision, c, role="supervisor")
    return c


PATHS = {
    "acceptance_notice": (accepted, "受理通知书", "太市监受", "决定予以受理"),
    "rejection_notice": (lambda s: _rejected(s), "不予受理告知书", "太市监不受", "不属于职责或无处理权限"),
    "transfer_notice": (lambda s: _transferred(s), "转送告知书", "太市监转", "临泉县市场监督管理局"),
    "mediation_agreement": (lambda s: mediated(s, AGREEMENT), "调解协议书", "太市监调", "商家退款3299元"),
    "termination_notice": (lambda s: mediated(s, NO_AGREEMENT), "终止调解告知书", "太市监终调", "商家拒绝退款"),
    "case_filing_notice": (lambda s: filing(s, FILE), "立案告知书", "太市监立", "太市监诉转案〔2026〕1号"),
    "no_filing_notice": (lambda s: filing(s, NO_FILE), "不予立案告知书", "太市监不立", "不构成违法"),
}


def _rejected(s: Scenario) -> Complaint:
    c = s.submit()
    s.do("th-amr", "review", REJECT, c)
    return c


def _transferred(s: Scenario) -> Complaint:
    c = s.submit()
    s.do("th-amr", "review", {"decision": "transfer", "reason": "经营地在临泉", "transfer_to": "lq-amr"}, c)
    return c


@pytest.mark.parametrize("kind", list(PATHS))
def test_each_kind_is_made_at_its_step_with_its_facts_in_the_pdf(s: Scenario, kind: str) -> None:
    path, title, word, fact = PATHS[kind]
    c = path(s)
    made = [d for d in documents(s, c) if d.kind == kind]
    assert len(made) == 1, [d.kind for d in documents(s, c)]
    [document] = made
    assert document.title == title and document.recipient == "complainant"
    assert re.fullmatch(rf"{word}〔2026〕[1-9]\d*号", document.doc_no), document.doc_no
    data = pdf_of(s, document)
    assert data.startswith(b"%PDF") and document.size == len(data)
    text = pdf_text(data)
    for expected in (title, c.tracking_no, TAIHE, document.doc_no, "2026年11月18日", fact):
        assert expected.replace(" ", "") in text, (expected, text)
    fonts = font_names(data)
    plain = [f.replace("-", "") for f in fonts]  # WeasyPrint writes Noto-Serif-CJK-SC
    assert plain and all("NotoSerifCJK" in f or "NotoSansCJK" in f for f in plain), fonts


def test_a_rejection_names_its_ground_and_the_remedy(s: Scenario) -> None:
    c = _rejected(s)
    [document] = documents(s, c)
    text = pdf_text(pdf_of(s, document))
    assert "属于“不属于职责或无处理权限”的情形，决定不予受理" in text
    assert "理由：不属于本部门职责范围" in text
    assert "《中华人民共和国消费者权益保护法》第三十九条" in text and "向人民法院提起诉讼" in text


def test_numbers_run_per_agency_and_year_and_never_repeat(s: Scenario) -> None:
    first, second = _rejected(s), accepted(s)
    transferred = _transferred(s)
    numbers = [d.doc_no for c in (first, second, transferred) for d in documents(s, c)]
    assert numbers == ["太市监不受〔2026〕1号", "太市监受〔2026〕2号", "太市监转〔2026〕3号"]
    with s.product.uow() as uow:
        taihe, linquan = get_agency_by_code(uow.session, "th-amr"), get_agency_by_code(uow.session, "lq-amr")
        assert taihe is not None and linquan is not None
        assert next_doc_no(uow.session, linquan, 2026, "受") == (1, "临市监受〔2026〕1号")  # another agency
        assert next_doc_no(uow.session, taihe, 2027, "受") == (1, "太市监受〔2027〕1号")  # a new year
        assert next_doc_no(uow.session, taihe, 2026, "调") == (4, "太市监调〔2026〕4号")
        uow.commit()
    s.clock.set(s.clock.now().replace(year=2027, month=1, day=6))
    in_2027 = _rejected(s)
    assert [d.doc_no for d in documents(s, in_2027)] == ["太市监不受〔2027〕2号"]


def test_a_document_is_kept_not_made_again(s: Scenario) -> None:
    c = _rejected(s)
    [document] = documents(s, c)
    assert document.notice_key.startswith("instance:")  # the transition's notice that carried it
    s.restart()
    with s.product.uow() as uow:
        again = issue_for_notice(uow.session, s.product.blobs, complaint_id=c.id, template="rejection",
                                 context={"agency": "th-amr", "reason": "另一个理由"}, key=document.notice_key,
                                 now=s.clock.now())
        uow.commit()
    assert again is not None and (again.id, again.sha256, again.doc_no) == (document.id, document.sha256,
                                                                            document.doc_no)
    [still] = documents(s, c)
    assert still.sha256 == document.sha256 and pdf_of(s, still) == pdf_of(s, document)
    assert "另一个理由" not in pdf_text(pdf_of(s, still))


def test_the_email_notice_names_its_document_and_the_sms_nothing(s: Scenario) -> None:
    from notifications.tables import OutboxMessage

    c = _rejected(s)
    [document] = documents(s, c)
    with s.product.uow() as uow:
        [row] = uow.session.scalars(select(OutboxMessage).where(OutboxMessage.complaint_id == c.id))
    assert row.channel == "email" and row.template == "rejection"
    assert row.attachments == [{"filename": "不予受理告知书.pdf", "sha256": document.sha256,
                                "content_type": "application/pdf"}]
