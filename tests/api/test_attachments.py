"""Evidence files over the API: upload, list, download, who may see them, and every file refused."""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import func, select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from agencies.attachments import FileTooLarge
from agencies.blobs import DirectoryBlobStore
from agencies.tables import Attachment, Blob, Complaint
from complaintflow.services import attachments
from engine.db.tables import AuditEvent
from tests.api.conftest import Api
from web.uploads import read_upload

OWN = "th-amr.liaison"
OTHER = "lq-amr.liaison"  # another county's regulator: not involved

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + \
    b"This program cannot be run in DOS mode.\r\n" + b"\x00" * 64
TEXT = "聊天记录：商家答应七天内退款。\n".encode()
OLE2_DOC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504 + "WordDocument".encode("utf-16-le") + b"\x00" * 64
OLE2_OTHER = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504 + "SummaryInformation".encode("utf-16-le")


def ooxml(main: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        package.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/word/document.xml" ContentType="{main}"/></Types>'))
        package.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


DOCX = ooxml("application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml")
DOCM = ooxml("application/vnd.ms-word.document.macroEnabled.main+xml")


def plain_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    return buffer.getvalue()


def upload(api: Api, complaint_id: int, name: str, data: bytes, user: str = OWN, note: str | None = None,
           content_type: str = "application/octet-stream") -> Any:
    return api.post(f"/api/v1/complaints/{complaint_id}/attachments", user,
                    files={"file": (name, data, content_type)}, data={"note": note} if note is not None else None)


def raw_upload(api: Api, complaint_id: int, filename: bytes, data: bytes) -> Any:
    """A multipart body written by hand, so the file name reaches the server byte for byte (an HTTP client
    would escape a NUL or leave out an empty name)."""
    boundary = b"cf-boundary-7d1"
    body = (b"--" + boundary + b'\r\nContent-Disposition: form-data; name="file"; filename="' + filename +
            b'"\r\nContent-Type: application/octet-stream\r\n\r\n' + data + b"\r\n--" + boundary + b"--\r\n")
    return api.post(f"/api/v1/complaints/{complaint_id}/attachments", OWN, content=body,
                    headers={"Content-Type": f"multipart/form-data; boundary={boundary.decode()}"})


def stored(api: Api) -> tuple[int, int]:
    """(attachment rows, blob rows)."""
    with api.scenario.product.uow() as uow:
        return (uow.session.scalar(select(func.count()).select_from(Attachment)) or 0,
                uow.session.scalar(select(func.count()).select_from(Blob)) or 0)


def files_on_disk(api: Api) -> list[str]:
    store = api.scenario.product.blobs
    if not isinstance(store, DirectoryBlobStore) or not store.root.exists():
        return []
    return [p.name for p in store.root.rglob("*") if p.is_file()]


@pytest.fixture
def complaint(api: Api) -> int:
    return int(api.submit()["id"])


def test_upload_list_and_download(api: Api, complaint: int) -> None:
    response = upload(api, complaint, "发票.png", PNG, note="购物发票", content_type="text/html")
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["content_type"] == "image/png"  # found in the content, never the client's
    assert (created["filename"], created["size"], created["sha256"]) == ("发票.png", len(PNG),
                                                                          hashlib.sha256(PNG).hexdigest())
    listed = api.get(f"/api/v1/complaints/{complaint}/attachments", OWN)
    assert listed.status_code == 200
    [item] = listed.json()
    assert (item["id"], item["note"], item["uploaded_by"]) == (created["id"], "购物发票", OWN)
    download = api.get(f"/api/v1/attachments/{created['id']}", OWN)
    assert download.status_code == 200
    assert download.content == PNG
    assert download.headers["content-type"] == "image/png"
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-disposition"].startswith("attachment;")
    assert f"filename*=UTF-8''{quote('发票.png')}" in download.headers["content-disposition"]
    with api.scenario.product.uow() as uow:
        [event] = uow.session.scalars(select(AuditEvent).where(AuditEvent.action == "attachment.added"))
        assert (event.complaint_id, event.actor, event.details["sha256"]) == (complaint, OWN, created["sha256"])


@pytest.mark.parametrize(("name", "data", "content_type"), [
    ("photo.jpg", JPEG, "image/jpeg"), ("contract.pdf", PDF, "application/pdf"),
    ("合同.docx", DOCX, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("旧合同.doc", OLE2_DOC, "application/msword"), ("chat.txt", TEXT, "text/plain; charset=utf-8"),
], ids=["jpeg", "pdf", "docx", "doc", "text"])
def test_allowed_types_are_kept_as_detected(api: Api, complaint: int, name: str, data: bytes,
                                            content_type: str) -> None:
    response = upload(api, complaint, name, data)
    assert response.status_code == 201, response.text
    assert response.json()["content_type"] == content_type


@pytest.mark.parametrize(("name", "data"), [
    ("invoice.jpg", EXE), ("page.txt", b"<!DOCTYPE html><html><script>alert(1)</script></html>"),
    ("logo.png", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
    ("files.docx", plain_zip()), ("macro.docx", DOCM), ("setup.doc", OLE2_OTHER),
    ("binary.txt", b"\x00\x01\x02\x03 not text"),
], ids=["exe-as-jpg", "html", "svg", "zip", "macro-docx", "ole2-other", "binary"])
def test_other_types_are_refused_with_415_and_nothing_stored(api: Api, complaint: int, name: str,
                                                            data: bytes) -> None:
    response = upload(api, complaint, name, data, content_type="image/jpeg")
    assert response.status_code == 415, response.text
    assert response.json()["detail"] == [{"field": "file", "message": (
        "文件类型不允许：只接受图片、PDF、Office 文档和文本文件 / file type not allowed: only images, PDF, "
        "Office documents and text files")}]
    assert stored(api) == (0, 0)


def test_a_file_over_20_mb_is_413_and_nothing_is_stored(api: Api, complaint: int) -> None:
    limit = 20 * 1024 * 1024
    just_over = upload(api, complaint, "big.pdf", b"%PDF-" + b"0" * (limit - 4))  # limit + 1 bytes
    assert just_over.status_code == 413, just_over.text
    assert "文件超过 20 MB 的上限" in just_over.json()["detail"][0]["message"]
    assert just_over.json()["detail"][0]["field"] == "file"
    far_over = upload(api, complaint, "huge.pdf", b"%PDF-" + b"0" * (limit + 1024 * 1024))  # refused by its length
    assert far_over.status_code == 413
    assert stored(api) == (0, 0)
    assert files_on_disk(api) == []
    exactly = upload(api, complaint, "limit.pdf", b"%PDF-" + b"0" * (limit - 5))
    assert exactly.status_code == 201, exactly.text


def test_the_upload_is_refused_from_content_length_before_the_body_is_read(api: Api, complaint: int) -> None:
    """An announced length over the limit is answered without the body: the client sends only a prefix."""
    headers = {**api.headers(OWN), "Content-Type": "multipart/form-data; boundary=x",
               "Content-Length": str(64 * 1024 * 1024)}
    response = api.client.post(f"/api/v1/complaints/{complaint}/attachments", headers=headers, content=b"--x\r\n")
    assert response.status_code == 413
    assert "20 MB" in response.text


def test_missing_and_empty_files_are_422_naming_file(api: Api, complaint: int) -> None:
    missing = api.post(f"/api/v1/complaints/{complaint}/attachments", OWN, data={"note": "没有文件"},
                       files={"other": ("a.txt", b"x", "text/plain")})
    assert missing.status_code == 422
    assert missing.json()["detail"][0]["field"] == "file"
    empty = upload(api, complaint, "empty.pdf", b"")
    assert empty.status_code == 422
    assert empty.json()["detail"][0]["field"] == "file"
    long_note = upload(api, complaint, "a.png", PNG, note="说" * 501)
    assert long_note.status_code == 422
    assert long_note.json()["detail"][0]["field"] == "note"
    assert stored(api) == (0, 0)


@pytest.mark.parametrize(("sent", "kept"), [
    ("../../etc/passwd.txt", "passwd.txt"), ("..\\..\\windows\\system32\\a.txt", "a.txt"),
    ("evil\x00.txt", "evil.txt"), ("发票\u202etxt.exe.txt", "发票txt.exe.txt"), ("\u2066a\u2069\u200e.txt", "a.txt"),
    ("", "未命名文件.txt"), ("..", "未命名文件.txt"), ("e\u0301.txt", "\u00e9.txt"),
], ids=["dotdot", "backslashes", "nul", "rtl", "isolates", "empty", "dots", "nfc"])
def test_filenames_are_made_safe(api: Api, complaint: int, sent: str, kept: str) -> None:
    response = raw_upload(api, complaint, sent.encode(), TEXT)
    assert response.status_code == 201, response.text
    assert response.json()["filename"] == kept


def test_a_300_character_name_keeps_255_characters_and_its_extension(api: Api, complaint: int) -> None:
    response = upload(api, complaint, "证" * 300 + ".pdf", PDF)
    assert response.status_code == 201, response.text
    name = response.json()["filename"]
    assert len(name) == 255
    assert name == "证" * 251 + ".pdf"


def test_the_same_bytes_twice_are_stored_once(api: Api, complaint: int) -> None:
    first = upload(api, complaint, "a.pdf", PDF).json()
    second = upload(api, complaint, "b.pdf", PDF).json()
    assert first["sha256"] == second["sha256"]
    assert first["id"] != second["id"]
    assert stored(api) == (2, 1)
    assert len(files_on_disk(api)) in (0, 1)  # one file in the directory store; none in the database store


def test_another_agency_gets_404_for_the_complaint_and_its_files(api: Api, complaint: int) -> None:
    created = upload(api, complaint, "a.png", PNG).json()
    missing = api.get("/api/v1/attachments/999999", OTHER)
    theirs = api.get(f"/api/v1/attachments/{created['id']}", OTHER)
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == missing.json()
    assert api.get(f"/api/v1/complaints/{complaint}/attachments", OTHER).status_code == 404
    assert upload(api, complaint, "b.png", PNG, user=OTHER).status_code == 404
    assert upload(api, 999999, "b.png", PNG).status_code == 404
    assert api.get(f"/api/v1/attachments/{created['id']}", None).status_code == 401
    assert stored(api) == (1, 1)


def test_an_archived_complaint_takes_no_more_files(api: Api, complaint: int) -> None:
    with api.scenario.product.uow() as uow:
        row = uow.session.get(Complaint, complaint)
        assert row is not None
        row.archived_at = api.scenario.clock.now()
        uow.commit()
    response = upload(api, complaint, "late.png", PNG)
    assert response.status_code == 409
    assert stored(api) == (0, 0)
    assert files_on_disk(api) == []  # the directory store's file went with the rolled-back transaction


def test_the_service_refuses_a_file_over_the_limit_before_storing_anything(api: Api, complaint: int) -> None:
    product = api.scenario.product
    limit = attachments.size_limit(product)
    assert limit == 20 * 1024 * 1024
    with pytest.raises(FileTooLarge) as refused:
        attachments.attach(product, complaint, "big.pdf", b"%PDF-" + b"0" * (limit - 4), None,
                           api.scenario.actor(OWN))
    assert refused.value.status == 413
    assert refused.value.message.startswith("文件超过 20 MB 的上限")
    assert stored(api) == (0, 0)
    assert files_on_disk(api) == []


def _reader_app(limit: int) -> Starlette:
    """``read_upload`` alone behind a route: what it read, or its 413."""

    async def endpoint(request: Request) -> Response:
        try:
            form = await read_upload(request, limit)
        except FileTooLarge as refused:
            return JSONResponse({"detail": refused.message}, status_code=413)
        return JSONResponse({"fields": form.fields, "sizes": [len(d) for _, d in form.files.get("file", [])]})

    return Starlette(routes=[Route("/up", endpoint, methods=["POST"])])


def test_the_upload_reader_stops_at_the_limit() -> None:
    with TestClient(_reader_app(1000)) as client:
        within = client.post("/up", files={"file": ("a.txt", b"x" * 1000)}, data={"note": "说明"})
        assert within.json() == {"fields": {"note": "说明"}, "sizes": [1000]}
        over = client.post("/up", files={"file": ("a.txt", b"x" * 1001)})
        assert over.status_code == 413
        assert over.json()["detail"].startswith("文件超过")

        def endless() -> Iterator[bytes]:  # no Content-Length: read until the cap, then refused
            for _ in range(10_000):
                yield b"y" * 1024

        chunked = client.post("/up", content=endless(), headers={"Content-Type": "multipart/form-data; boundary=b"})
        assert chunked.status_code == 413
        announced = client.post("/up", content=b"--b\r\n", headers={
            "Content-Type": "multipart/form-data; boundary=b", "Content-Length": str(10 * 1024 * 1024)})
        assert announced.status_code == 413
