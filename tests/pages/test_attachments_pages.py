"""Evidence files on the pages: the complaint page's 证据材料 section (list, upload with PRG, errors beside the
field, download, another agency's 404) and the public form's evidence (attached with the complaint; a bad
file refuses the whole submission and registers nothing)."""

from __future__ import annotations

import lxml.html
from sqlalchemy import func, select

from agencies.tables import Attachment, Blob, Complaint
from tests.api.test_attachments import EXE, PDF, PNG, files_on_disk
from tests.pages.conftest import Pages, csrf_of
from tests.pages.test_public import complaints, field_errors, form_values, open_form

OWN = "th-amr.liaison"
OTHER = "lq-amr.liaison"


def counts(pages: Pages) -> tuple[int, int, int]:
    """(complaints, attachments, blobs)."""
    with pages.scenario.product.uow() as uow:
        return tuple(uow.session.scalar(select(func.count()).select_from(table)) or 0  # type: ignore[return-value]
                     for table in (Complaint, Attachment, Blob))


def section_rows(html: str) -> list[list[str]]:
    tree = lxml.html.fromstring(html)
    return [[" ".join(cell.text_content().split()) for cell in row.xpath("td")]
            for row in tree.xpath('//section[@id="attachments"]//tbody/tr')]


def test_staff_upload_from_the_complaint_page_and_download(pages: Pages) -> None:
    complaint = pages.api.submit()["id"]
    pages.sign_in(OWN)
    page = pages.get(f"/complaints/{complaint}")
    assert page.status_code == 200
    assert "暂无证据材料" in page.text
    response = pages.client.post(f"/complaints/{complaint}/attachments", data={
        "csrf_token": csrf_of(page.text), "note": "购物发票"}, files={"file": ("发票.pdf", PDF, "application/pdf")})
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"/complaints/{complaint}?done=attached#attachments"
    shown = pages.get(f"/complaints/{complaint}?done=attached")
    assert "文件已上传" in shown.text
    [[name, kind, size, uploader, _at, note]] = section_rows(shown.text)
    assert (name, kind, size, note) == ("发票.pdf", "PDF", "1 KB", "购物发票")
    assert uploader  # the uploader's display name
    [href] = lxml.html.fromstring(shown.text).xpath('//section[@id="attachments"]//tbody//a/@href')
    download = pages.get(href)
    assert download.status_code == 200
    assert download.content == PDF
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-disposition"].startswith("attachment;")

    pages.sign_out_locally()
    pages.sign_in(OTHER)
    assert pages.get(href).status_code == 404
    assert pages.get("/attachments/999999").status_code == 404


def test_a_refused_file_is_told_beside_the_field_and_the_note_stays(pages: Pages) -> None:
    complaint = pages.api.submit()["id"]
    pages.sign_in(OWN)
    page = pages.get(f"/complaints/{complaint}")
    response = pages.client.post(f"/complaints/{complaint}/attachments", data={
        "csrf_token": csrf_of(page.text), "note": "收据照片"}, files={"file": ("photo.jpg", EXE, "image/jpeg")})
    assert response.status_code == 415
    assert field_errors(response.text) == {"file": "文件类型不允许：只接受图片、PDF、Office 文档和文本文件"}
    [note] = lxml.html.fromstring(response.text).xpath('//input[@id="attachment-note"]/@value')
    assert note == "收据照片"
    assert counts(pages)[1:] == (0, 0)
    forged = pages.client.post(f"/complaints/{complaint}/attachments", data={"csrf_token": "forged"},
                               files={"file": ("a.png", PNG, "image/png")})
    assert forged.status_code == 403
    assert counts(pages)[1:] == (0, 0)


def test_another_agency_cannot_upload_and_sees_no_section(pages: Pages) -> None:
    complaint = pages.api.submit()["id"]
    pages.sign_in(OTHER)
    page = pages.get("/complaints")
    response = pages.client.post(f"/complaints/{complaint}/attachments", data={"csrf_token": csrf_of(page.text)},
                                 files={"file": ("a.png", PNG, "image/png")})
    assert response.status_code == 404
    assert counts(pages)[1:] == (0, 0)


def test_public_intake_with_evidence_attaches_it_to_the_complaint(pages: Pages) -> None:
    form = open_form(pages)
    assert 'enctype="multipart/form-data"' in pages.get("/public/complaints/new").text
    response = pages.client.post("/public/complaints/new", data={**form, **form_values()}, files=[
        ("files", ("发票.png", PNG, "image/png")), ("files", ("合同.pdf", PDF, "application/pdf"))])
    assert response.status_code == 303, response.text
    assert counts(pages) == (1, 2, 2)
    with pages.scenario.product.uow() as uow:
        rows = list(uow.session.scalars(select(Attachment).order_by(Attachment.id)))
    assert [(a.filename, a.content_type, a.uploaded_by) for a in rows] == [
        ("发票.png", "image/png", "public"), ("合同.pdf", "application/pdf", "public")]
    pages.sign_in(OWN)  # the handling agency sees them
    complaint_id = rows[0].complaint_id
    assert [row[0] for row in section_rows(pages.get(f"/complaints/{complaint_id}").text)] == ["发票.png", "合同.pdf"]


def test_a_bad_evidence_file_refuses_the_whole_submission(pages: Pages) -> None:
    form = open_form(pages)
    response = pages.client.post("/public/complaints/new", data={**form, **form_values()}, files=[
        ("files", ("发票.png", PNG, "image/png")), ("files", ("收据.jpg", EXE, "image/jpeg"))])
    assert response.status_code == 422
    errors = field_errors(response.text)
    assert errors == {"files": "收据.jpg：文件类型不允许：只接受图片、PDF、Office 文档和文本文件"}
    assert complaints(pages) == 0
    assert counts(pages) == (0, 0, 0)
    assert files_on_disk(pages.api) == []
    [kept] = lxml.html.fromstring(response.text).xpath('//input[@name="subject"]/@value')
    assert kept == form_values()["subject"]  # the typed values stay
    too_many = pages.client.post("/public/complaints/new", data={**form, **form_values()},
                                 files=[("files", (f"{n}.png", PNG, "image/png")) for n in range(6)])
    assert too_many.status_code == 422
    assert field_errors(too_many.text) == {"files": "最多可提交 5 个文件"}
    assert counts(pages) == (0, 0, 0)
