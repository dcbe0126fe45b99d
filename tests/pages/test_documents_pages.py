"""Documents on the pages: the complainant's e-mail carries the rejection's PDF, and the same PDF is
downloaded on the tracking page with a POST form; the complaint page lists the documents for staff."""

from __future__ import annotations

import hashlib
import io
import re

import lxml.html
from pypdf import PdfReader

from complaintflow.jobs import dispatch_notices
from notifications.channels import SmtpChannel
from tests.notifications.conftest import Mailbox, smtp_server  # noqa: F401  (the real SMTP server fixture)
from tests.pages.conftest import Pages, csrf_of

REJECT = {"decision": "reject", "reason": "不属于本部门职责范围", "ground": "not_competent", "violation_found": False}


def text_of(pdf: bytes) -> str:
    return re.sub(r"\s+", "", "".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages))


def test_a_rejected_complainant_gets_the_pdf_by_email_and_the_same_on_the_tracking_page(
        pages: Pages, smtp_server: Mailbox) -> None:  # noqa: F811
    created = pages.api.submit()
    pages.api.act("th-amr.liaison", "review", int(created["id"]), REJECT)
    product = pages.scenario.product
    product.channels = {"email": SmtpChannel(smtp_server.url)}
    report = dispatch_notices(product)
    assert report.errors == [] and report.sent == 1

    [mail] = smtp_server.received
    assert mail.rcpt_tos == ["zhangsan@example.com"]
    [attached] = list(mail.message.iter_attachments())
    assert attached.get_filename() == "不予受理告知书.pdf"
    emailed = attached.get_content()
    text = text_of(emailed)
    assert "不属于职责或无处理权限" in text and "理由：不属于本部门职责范围" in text
    assert "第三十九条" in text and "向人民法院提起诉讼" in text

    tracking = pages.get("/public/track")
    found = pages.client.post("/public/track", data={"tracking_no": created["tracking_no"],
                                                     "code": created["tracking_code"],
                                                     "csrf_token": csrf_of(tracking.text)})
    assert found.status_code == 200
    tree = lxml.html.fromstring(found.text)
    [form] = tree.xpath('//form[@action="/public/track/document"]')
    assert form.get("method") == "post" and "不予受理告知书" in form.text_content()
    fields = {i.get("name"): i.get("value") for i in form.xpath(".//input")}
    assert set(fields) == {"csrf_token", "tracking_no", "code", "document_id"}
    downloaded = pages.client.post("/public/track/document", data=fields)
    assert downloaded.status_code == 200 and downloaded.headers["content-type"] == "application/pdf"
    assert "filename*=UTF-8''" in downloaded.headers["content-disposition"]
    assert hashlib.sha256(downloaded.content).hexdigest() == hashlib.sha256(emailed).hexdigest()

    wrong = pages.client.post("/public/track/document", data={**fields, "code": "WRONGCODE"})
    assert wrong.status_code == 404 and wrong.headers["content-type"].startswith("text/html")
    forged = pages.client.post("/public/track/document", data={**fields, "csrf_token": "forged"})
    assert forged.status_code == 403


def test_the_complaint_page_lists_documents_for_involved_agencies_only(pages: Pages) -> None:
    created = pages.api.submit()
    pages.api.act("th-amr.liaison", "review", int(created["id"]), REJECT)
    pages.sign_in("th-amr.liaison")
    page = pages.get(f"/complaints/{created['id']}")
    assert page.status_code == 200
    tree = lxml.html.fromstring(page.text)
    [row] = tree.xpath('//section[@id="documents"]//tbody/tr')
    assert "不予受理告知书" in row.text_content() and "太市监不受〔2026〕1号" in row.text_content()
    [link] = row.xpath(".//a/@href")
    pdf = pages.get(link)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    pages.sign_out_locally()
    assert pages.get(link).status_code == 303  # signed out: to the sign-in page
    pages.sign_in("lq-amr.liaison")
    assert pages.get(link).status_code == 404
