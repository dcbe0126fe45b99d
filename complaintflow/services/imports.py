"""Bulk intake of complaints read from a CSV file (see ``agencies.bulk_import`` for the format)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from agencies.bulk_import import CsvRow, ImportReport, row_problem, row_to_body
from agencies.submission import submit_complaint
from complaintflow.wiring import Product
from engine.runner import Actor


def import_complaints(product: Product, rows: Iterable[CsvRow], actor: Actor | None,
                      progress: Callable[[int], None] = lambda _n: None) -> ImportReport:
    """Register each row as a complaint, ``actor`` as the staff member who registers them (``None``:
    each goes to the agency its business's region is routed to).

    Each row is its own unit of work (a batch of submissions, not one): a bad row is reported with
    its line and rolled back alone, and the good ones stay imported."""
    report = ImportReport()
    for row in rows:
        problem = row.problem
        if problem is None:
            try:
                with product.uow() as uow:
                    submitted = submit_complaint(uow.session, product.runner, row_to_body(row.cells), actor=actor,
                                                 now=product.clock.now(), tracking_key=product.tracking_key)
                    uow.commit()
                report.imported += 1
                report.tracking.append((row.line, submitted.complaint.tracking_no))
            except Exception as exc:
                problem = row_problem(exc)
                if problem is None:
                    raise
        if problem is not None:
            report.failed.append((row.line, problem))
        progress(1)
    return report
