"""Bulk intake from a CSV file (e.g. complaints exported by another platform): one row, one transaction.

Columns are the complaint body's fields, nested ones flattened with ``_``: ``kind, received_at,
received_by, complainant_name, complainant_phone, complainant_id_number, complainant_email,
business_name, business_region_code, business_address, business_uscc, business_platform,
business_platform_uscc, category, subject, description, amount, occurred_on``. Empty cells are absent
fields. A bad row is reported with its line number (where the row starts: a quoted cell may span lines)
and field, and does not stop the others; a file that cannot be read as a whole (encoding, CSV syntax, unknown columns)
imports nothing and says why.

Encoding: what Excel saves in China is GBK (its "CSV (逗号分隔)") or UTF-8 with a byte-order mark
("CSV UTF-8"). A file is read as UTF-8 (a BOM is dropped) when it decodes strictly as UTF-8, else as
GB18030, the superset of GBK and GB2312; a caller may force an encoding instead.
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.exc import DataError, IntegrityError

from agencies.errors import AgenciesError
from engine.errors import EngineError, InvalidInput

NESTED = ("complainant", "business")
COLUMNS = (
    "kind", "received_at", "received_by", "complainant_name", "complainant_phone", "complainant_id_number",
    "complainant_email", "business_name", "business_region_code", "business_address", "business_uscc",
    "business_platform", "business_platform_uscc", "category", "subject", "description", "amount", "occurred_on",
)
FALLBACK_ENCODING = "gb18030"


class ImportFileError(Exception):
    """The file as a whole cannot be imported; the message (Chinese first) says why and what to do."""


@dataclass(frozen=True)
class CsvRow:
    """One record: the line it starts on, its cells by column, or why it cannot be a complaint."""

    line: int
    cells: dict[str, str]
    problem: str | None = None


@dataclass
class ImportReport:
    imported: int = 0
    failed: list[tuple[int, str]] = field(default_factory=list)
    tracking: list[tuple[int, str]] = field(default_factory=list)


def _line_of(raw: bytes, position: int) -> int:
    return raw.count(b"\n", 0, position) + 1


def decode(raw: bytes, encoding: str | None = None) -> str:
    """The file's text: in ``encoding`` if given, else UTF-8 (with or without BOM) or GB18030.

    Strict decoding first: GB18030 decodes most UTF-8 byte sequences too (into the wrong characters),
    so it can only be the fallback. ``ImportFileError`` when the bytes fit neither."""
    if encoding is not None:
        try:
            codec = codecs.lookup(encoding).name
        except LookupError:
            raise ImportFileError(f"未知的编码 / unknown encoding: {encoding}") from None
        try:
            return raw.decode(codec).removeprefix("\ufeff")
        except UnicodeDecodeError as exc:
            line = _line_of(raw, exc.start)
            raise ImportFileError(
                f"文件第 {line} 行不是 {encoding} 编码的文本 / line {line} is not {encoding} text") from None
    if raw.startswith(codecs.BOM_UTF8):
        try:
            return raw[len(codecs.BOM_UTF8):].decode("utf-8")
        except UnicodeDecodeError as exc:
            line = _line_of(raw, exc.start)
            raise ImportFileError(f"文件以 UTF-8 标记开头，但第 {line} 行不是 UTF-8 文本 / "
                                  f"the file starts with a UTF-8 BOM, but line {line} is not UTF-8") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode(FALLBACK_ENCODING).removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = _line_of(raw, exc.start)
        raise ImportFileError(
            f"无法识别文件编码：第 {line} 行既不是 UTF-8 也不是 GBK/GB18030 文本。请在 Excel 中另存为"
            f"“CSV UTF-8（逗号分隔）”，或用 --encoding 指定编码 / the file is neither UTF-8 nor GB18030 "
            f"(line {line}); save it as CSV UTF-8 or pass --encoding") from None


def parse_rows(text: str) -> list[CsvRow]:
    """The records after the header, numbered by the line each starts on; blank lines are skipped.

    ``ImportFileError`` for a missing, unknown or repeated column name and for broken CSV syntax (a
    quote never closed); a record with more cells than the header names is a bad row."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None or not any(name.strip() for name in header):
            raise ImportFileError("文件为空或缺少表头行 / the file is empty or has no header line")
        names = [name.strip() for name in header]
        unknown = [name for name in names if name and name not in COLUMNS]
        if unknown:
            raise ImportFileError(f"第 1 行：未知的列 / line 1: unknown column(s): {', '.join(unknown)}"
                                  f"（可用的列 / known: {', '.join(COLUMNS)}）")
        repeated = sorted({name for name in names if name and names.count(name) > 1})
        if repeated:
            raise ImportFileError(f"第 1 行：重复的列 / line 1: repeated column(s): {', '.join(repeated)}")
        rows: list[CsvRow] = []
        last_line = reader.line_num
        for record in reader:
            line, last_line = last_line + 1, reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            cells = {name: cell for name, cell in zip(names, record, strict=False) if name}
            stray = record[len(names):] + [c for n, c in zip(names, record, strict=False) if not n]
            problem = None
            if any(cell.strip() for cell in stray):
                problem = (f"本行有 {len(record)} 个单元格，多于表头的 {len(names)} 列（或在无列名的列中有内容）/ "
                           "cells outside the named columns")
            rows.append(CsvRow(line, cells, problem))
    except csv.Error as exc:
        line = reader.line_num
        raise ImportFileError(f"第 {line} 行附近 CSV 格式错误 / CSV syntax error near line {line}: {exc}") from None
    return rows


def load_csv(path: Path, encoding: str | None = None) -> list[CsvRow]:
    """Read and check the whole file before anything is imported (so the count is known, and a file
    that is wrong as a whole imports nothing)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ImportFileError(f"无法读取文件 / cannot read {path}: {exc.strerror}") from None
    return parse_rows(decode(raw, encoding))


def row_to_body(row: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for column, raw in row.items():
        value = (raw or "").strip()
        if not column or not value:
            continue
        prefix, _, rest = column.partition("_")
        if prefix in NESTED and rest:
            body.setdefault(prefix, {})[rest] = value
        else:
            body[column] = value
    return body


def row_problem(exc: Exception) -> str | None:
    """What to report for a row whose submission raised ``exc`` (``None``: not a problem of the row,
    let it propagate)."""
    if isinstance(exc, InvalidInput):
        return "; ".join(f"{e.field}: {e.message}" for e in exc.errors)
    if isinstance(exc, EngineError | AgenciesError):
        return str(exc)
    if isinstance(exc, DataError):  # e.g. a NUL character, which PostgreSQL text cannot hold
        return "含有数据库无法保存的字符 / a value the database cannot store"
    if isinstance(exc, IntegrityError):
        return "与已有数据冲突 / conflicts with existing data"
    return None
