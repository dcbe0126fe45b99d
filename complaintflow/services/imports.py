"""Bulk intake of complaints read from a CSV file (see ``agencies.bulk_import`` for the format)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from agencies.bulk_import import CsvRow, ImportReport, import_rows
from complaintflow.wiring import Product
from engine.runner import Actor


def import_complaints(product: Product, rows: Iterable[CsvRow], actor: Actor | None,
                      progress: Callable[[int], None] = lambda _n: None) -> ImportReport:
    """Register each row as a complaint, ``actor`` as the staff member who registers them (``None``:
    each goes to the agency its business's region is routed to).

    Each row is its own unit of work (a batch of submissions, not one): a bad row is reported with
    its line and rolled back alone, and the good ones stay imported."""
    return import_rows(rows, product.session_factory, product.runner, actor, product.clock.now,
                       product.tracking_key, progress)
