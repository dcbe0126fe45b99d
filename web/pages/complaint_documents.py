"""The 文书 section of the complaint page: the complaint's official documents, each a download link.

Only an agency involved in the complaint sees them (a supervising agency's supervisor, who sees the page
to designate the complaint, does not); the links go to ``/documents/{id}.pdf`` (the page session).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from starlette.responses import Response

from agencies.complaints import is_involved
from agencies.documents import complaint_documents, document_pdf, filename_of
from agencies.tables import Document
from complaintflow.wiring import Product
from engine.clock import chinese_date
from engine.errors import NotFound
from web.uploads import content_disposition

NOT_FOUND = "未找到文书 / document not found"


def documents_context(session: Session, complaint_id: int, agency_id: int) -> list[dict[str, Any]]:
    """What ``_complaint_documents.html`` shows: title, number, date and link of each document."""
    if not is_involved(session, complaint_id, agency_id):
        return []
    return [{"title": d.title, "doc_no": d.doc_no, "on": chinese_date(d.created_at),
             "href": f"/documents/{d.id}.pdf", "size_kb": max(1, round((d.size or 0) / 1024))}
            for d in complaint_documents(session, complaint_id)]


def pdf_response(session: Session, product: Product, document: Document) -> Response:
    """The stored PDF as a download named after the document (``不予受理告知书.pdf``, RFC 5987-encoded,
    with an ASCII fallback for old clients)."""
    data = document_pdf(session, product.blobs, document)
    if data is None:
        raise NotFound(NOT_FOUND)
    return Response(data, media_type="application/pdf", headers={
        "Content-Disposition": content_disposition(filename_of(document), f"document-{document.id}.pdf"),
        "Cache-Control": "no-store"})



