"""Evidence files (证据材料): which files are accepted, under what name, and the rows that record them.

A file's type is decided from its bytes, never from the name or the type the client sent: images (JPEG,
PNG, GIF, WebP, HEIC/HEIF), PDF, Office documents (Word, Excel, PowerPoint: OOXML, a zip whose
``[Content_Types].xml`` declares the document's main part, or the legacy OLE2 ``.doc``/``.xls``) and plain
UTF-8 text. Everything else is refused: executables, HTML, SVG, XML, macro-enabled Office files, other zip
archives, installers in OLE2 form. The stored ``content_type`` is the detected one, so a download is always
served as what it is.

The name is kept for people to recognise the file, made harmless first (``safe_filename``): no directory
part, no control or bidirectional-override characters (a name must read as it is), NFC, at most 255
characters with its extension kept.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from datetime import datetime

import puremagic
from sqlalchemy import select
from sqlalchemy.orm import Session

from agencies.tables import Attachment

MAX_ATTACHMENT_MB = 20
"""The largest evidence file accepted, in MB (1 MB = 1,048,576 bytes); a setting may change it."""
MAX_FILES_AT_INTAKE = 5
MAX_NOTE = 500  # the column's length
MAX_FILENAME = 255
UNNAMED = "未命名文件"

IMAGE_TYPES = {"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "image/webp": ".webp",
               "image/heic": ".heic", "image/heif": ".heif"}
PDF = "application/pdf"
DOC = "application/msword"
XLS = "application/vnd.ms-excel"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
TEXT = "text/plain; charset=utf-8"
EXTENSIONS = {**IMAGE_TYPES, PDF: ".pdf", DOC: ".doc", XLS: ".xls", DOCX: ".docx", XLSX: ".xlsx", PPTX: ".pptx",
              TEXT: ".txt"}

# an OOXML package's main part, as its [Content_Types].xml declares it (macro-enabled variants are other types)
_OOXML_MAIN = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": DOCX,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": XLSX,
    "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml": PPTX,
}
_CONTENT_TYPES_MAX = 1024 * 1024  # a real [Content_Types].xml is a few KB: more is refused, never inflated
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# an OLE2 file is a Word or Excel document when its directory names the stream those keep their content in
_OLE2_STREAMS = (("WordDocument".encode("utf-16-le"), DOC), ("Workbook".encode("utf-16-le"), XLS),
                 ("Book".encode("utf-16-le"), XLS))
# text a browser would run or render as a page, whatever type it is served with
_MARKUP = re.compile(r"<\s*(?:!doctype|html|head|body|script|svg|iframe|object|embed|\?xml|meta)\b", re.IGNORECASE)
_TEXT_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")

# removed from names: C0/C1 controls (NUL included) and the bidirectional marks and overrides that make a name
# read otherwise than it is (「发票‮gpj.exe」)
_NAME_DROPPED = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")

TOO_LARGE = "文件超过 {mb} MB 的上限 / the file exceeds the {mb} MB limit"
NOT_ALLOWED = ("文件类型不允许：只接受图片、PDF、Office 文档和文本文件 / file type not allowed: only images, PDF, "
               "Office documents and text files")
EMPTY = "文件为空 / the file is empty"
NO_FILE = "请选择要上传的文件 / no file was sent"
TOO_MANY = f"最多可提交 {MAX_FILES_AT_INTAKE} 个文件 / at most {MAX_FILES_AT_INTAKE} files"
NOTE_TOO_LONG = f"说明不能超过 {MAX_NOTE} 个字 / the note is longer than {MAX_NOTE} characters"


class FileRefused(Exception):
    """A file that is not accepted: ``status`` the HTTP status it means (413 too large, 415 a type not
    allowed, 422 empty or missing), ``message`` bilingual (``中文 / English``), ``field`` the form's field."""

    status = 422

    def __init__(self, message: str, field: str = "file") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class FileTooLarge(FileRefused):
    status = 413

    def __init__(self, limit_bytes: int) -> None:
        super().__init__(TOO_LARGE.format(mb=limit_in_mb(limit_bytes)))
        self.limit_bytes = limit_bytes


class FileTypeNotAllowed(FileRefused):
    status = 415

    def __init__(self) -> None:
        super().__init__(NOT_ALLOWED)


def limit_bytes(max_mb: int | None = None) -> int:
    """The size limit in bytes: ``max_mb`` (the setting) or ``MAX_ATTACHMENT_MB``."""
    return (max_mb or MAX_ATTACHMENT_MB) * 1024 * 1024


def limit_in_mb(limit: int) -> str:
    mb = limit / (1024 * 1024)
    return str(int(mb)) if mb == int(mb) else f"{mb:.1f}"


@dataclass(frozen=True)
class CheckedFile:
    """A file that passed: its safe name, detected type and bytes."""

    filename: str
    content_type: str
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)


def check_file(filename: str, data: bytes, limit: int) -> CheckedFile:
    """The file as it will be stored, or ``FileRefused`` (size first, then emptiness, then type)."""
    if len(data) > limit:
        raise FileTooLarge(limit)
    if not data:
        raise FileRefused(EMPTY)
    content_type = detect_type(data)
    if content_type is None:
        raise FileTypeNotAllowed()
    return CheckedFile(safe_filename(filename, EXTENSIONS[content_type]), content_type, data)


def detect_type(data: bytes) -> str | None:
    """The file's type from its content, if it is one of the accepted types; else ``None``."""
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(_OLE2):
        return _ole2_type(data)
    if data.startswith(b"PK\x03\x04"):
        return _ooxml_type(data)
    try:
        matches = puremagic.magic_string(data[:8192])
    except (puremagic.PureError, ValueError):
        matches = []
    for match in matches:
        if match.mime_type in IMAGE_TYPES and match.confidence >= 0.3:
            return str(match.mime_type)
    if any(match.confidence >= 0.4 for match in matches):
        return None  # recognised as something else (an executable, an archive, HTML, SVG …)
    return TEXT if _is_plain_text(data) else None


def _ole2_type(data: bytes) -> str | None:
    """Word or Excel (97–2003) by the stream their directory names; other OLE2 files (installers, Outlook
    messages …) are refused."""
    for name, content_type in _OLE2_STREAMS:
        if name in data:
            return content_type
    return None


def _ooxml_type(data: bytes) -> str | None:
    """A .docx, .xlsx or .pptx: a zip whose ``[Content_Types].xml`` overrides a part with the main type of
    one of them. Any other zip (an archive, a macro-enabled document, a jar) is refused."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            info = package.getinfo("[Content_Types].xml")
            if info.file_size > _CONTENT_TYPES_MAX:
                return None
            with package.open(info) as handle:
                declared = handle.read(_CONTENT_TYPES_MAX + 1).decode("utf-8", errors="replace")
    except (zipfile.BadZipFile, KeyError, OSError, RuntimeError, NotImplementedError, EOFError, ValueError):
        return None
    found = {content_type for main, content_type in _OOXML_MAIN.items() if f'ContentType="{main}"' in declared}
    return found.pop() if len(found) == 1 else None


def _is_plain_text(data: bytes) -> bool:
    """UTF-8 (a BOM allowed) without control characters other than tab, line and page breaks, and without
    markup a browser would render."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    return not _TEXT_CONTROLS.search(text) and not _MARKUP.search(text) and not text.startswith("#!")


def safe_filename(name: str, default_extension: str) -> str:
    """The name with no directory part (either slash), no ``..``, no control or bidi characters, NFC, at most
    ``MAX_FILENAME`` characters with its extension kept; empty, 「未命名文件」 and the type's extension."""
    name = unicodedata.normalize("NFC", _NAME_DROPPED.sub("", name))
    name = re.split(r"[/\\]", name)[-1]
    while ".." in name:
        name = name.replace("..", ".")
    name = name.strip().rstrip(".").strip()
    stem, dot, extension = name.rpartition(".")
    if not dot or len(extension) > 16 or not extension.strip():
        stem, extension = name, ""
    stem = stem.strip().lstrip(".").strip()  # no hidden file
    suffix = f".{extension.strip()}" if extension.strip() else ""
    if not stem:
        return UNNAMED + (suffix or default_extension)
    return stem[:MAX_FILENAME - len(suffix)].rstrip() + suffix


def note_of(note: str | None) -> str | None:
    """The uploader's note, trimmed (blank is none); ``FileRefused`` past ``MAX_NOTE``."""
    text = _NAME_DROPPED.sub("", (note or "").replace("\r\n", "\n")).strip()
    if len(text) > MAX_NOTE:
        raise FileRefused(NOTE_TOO_LONG, "note")
    return text or None


# ---- rows -----------------------------------------------------------------------------------------


def add_attachment(session: Session, *, complaint_id: int, checked: CheckedFile, sha256: str, note: str | None,
                   uploaded_by: str, agency_id: int | None, task_id: str | None, now: datetime) -> Attachment:
    attachment = Attachment(complaint_id=complaint_id, filename=checked.filename, content_type=checked.content_type,
                            size=checked.size, sha256=sha256, note=note, uploaded_by=uploaded_by,
                            agency_id=agency_id, task_id=task_id, uploaded_at=now)
    session.add(attachment)
    session.flush()
    return attachment


def attachments_of(session: Session, complaint_id: int) -> list[Attachment]:
    """The complaint's attachments, oldest first."""
    return list(session.scalars(select(Attachment).where(Attachment.complaint_id == complaint_id)
                                .order_by(Attachment.uploaded_at, Attachment.id)))
