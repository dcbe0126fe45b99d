"""Bulk intake from a CSV file (e.g. complaints exported by another platform): one row, one transaction.

Columns are the complaint body's fields, nested ones flattened with ``_``: ``kind, received_at,
received_by, complainant_name, complainant_phone, complainant_id_number, complainant_email,
business_name, business_region_code, business_address, business_uscc, business_platform, category,
subject, description, amount, occurred_on``. Empty cells are absent fields. A bad row is reported
with its line number and field and does not stop the others.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from agencies.submission import submit_complaint
from engine.errors import EngineError, InvalidInput
from engine.runner import Actor, Runner
from engine.uow import UnitOfWork

NESTED = ("complainant", "business")


@dataclass
class ImportReport:
    imported: int = 0
    failed: list[tuple[int, str]] = field(default_factory=list)
    tracking: list[tuple[int, str]] = field(default_factory=list)


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


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        yield from enumerate(csv.DictReader(handle), start=2)  # line 1 is the header


def import_csv(path: Path, session_factory: sessionmaker[Session], runner: Runner, actor: Actor | None,
               now: Callable[[], datetime], progress: Callable[[int], None] = lambda _n: None) -> ImportReport:
    report = ImportReport()
    for line, row in read_rows(path):
        try:
            with UnitOfWork(session_factory) as uow:
                submitted = submit_complaint(uow.session, runner, row_to_body(row), actor=actor, now=now())
                uow.commit()
            report.imported += 1
            report.tracking.append((line, submitted.complaint.tracking_no))
        except InvalidInput as exc:
            report.failed.append((line, "; ".join(f"{e.field}: {e.message}" for e in exc.errors)))
        except EngineError as exc:
            report.failed.append((line, str(exc)))
        progress(1)
    return report
