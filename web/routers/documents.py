"""Official documents (文书) of a complaint: the list and the PDFs.

The agencies involved in a complaint read its documents (``GET /api/v1/complaints/{id}/documents``) and
download each (``GET /api/v1/documents/{id}.pdf`` with a bearer token; ``GET /documents/{id}.pdf`` from
the complaint page, with the page session). The complainant downloads their own with their tracking code
(``?code=``, rate limited like the public lookup); anyone else gets 404, as for a missing document.
The PDF is the stored one, byte for byte: a document is never made again.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from agencies.complaints import is_involved
from agencies.documents import complainant_document, complaint_documents, get_document
from agencies.tables import Document
from complaintflow import rate_limits
from complaintflow.services import limits
from engine.errors import NotFound
from web import queries
from web.deps import WORD, Id, ProductDep, SessionDep, StaffUser, client_address, current_principal, oauth2
from web.errors import TooManyRequests
from web.pages.complaint_documents import pdf_response
from web.pages.render import to_login
from web.pages.sessions import SignedInDep

router = APIRouter(tags=["documents"])

NOT_FOUND = "未找到文书 / document not found"
TrackingCode = Annotated[str | None, Query(min_length=1, max_length=40, pattern=WORD,
                                           description="the complainant's tracking code (their own documents)")]


def document_out(document: Document) -> dict[str, Any]:
    return {"id": document.id, "kind": document.kind, "doc_no": document.doc_no, "title": document.title,
            "created_at": document.created_at}


@router.get("/api/v1/complaints/{complaint_id}/documents")
def list_documents(complaint_id: Id, principal: StaffUser, session: SessionDep) -> list[dict[str, Any]]:
    """The complaint's documents, oldest first: ``[{id, kind, doc_no, title, created_at}]``."""
    queries.visible_complaint(session, complaint_id, principal.agency_id)  # 404 unless involved
    return [document_out(d) for d in complaint_documents(session, complaint_id)]


@router.get("/api/v1/documents/{document_id}.pdf", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}}})
def download(document_id: Id, request: Request, session: SessionDep, product: ProductDep,
             token: Annotated[str | None, Depends(oauth2)], code: TrackingCode = None) -> Response:
    """The PDF: for a user of an involved agency (bearer token), or for the complainant with ``?code=``."""
    if code is not None:
        if not limits.admit_request(product, rate_limits.PUBLIC_LOOKUP, client_address(request)):
            raise TooManyRequests("查询过于频繁，请稍后再试 / too many lookups")
        document = complainant_document(session, document_id, code, tracking_key=product.tracking_key)
    else:
        principal = current_principal(product, session, token)  # 401 without a valid token
        document = _for_agency(session, document_id, principal.user.agency_id)
    if document is None:
        raise NotFound(NOT_FOUND)
    return pdf_response(session, product, document)


@router.get("/documents/{document_id}.pdf", include_in_schema=False)
def download_from_page(document_id: Id, request: Request, session: SessionDep, product: ProductDep,
                       me: SignedInDep) -> Response:
    """The PDF from the complaint page (the page session, no token): for users of involved agencies."""
    if me is None:
        return to_login(request)
    document = _for_agency(session, document_id, me.principal.user.agency_id)
    if document is None:
        raise NotFound(NOT_FOUND)
    return pdf_response(session, product, document)


def _for_agency(session: Session, document_id: int, agency_id: int | None) -> Document | None:
    document = get_document(session, document_id)
    if document is None or agency_id is None or not is_involved(session, document.complaint_id, agency_id):
        return None
    return document
