"""A business's own users: the complaints against their business, and nothing else.

The complainant's ID number never reaches them (not even masked); the name, phone and e-mail are masked as
in a list (``agencies.masking``, relationship ``business``). Another business's complaint answers 404,
as a missing one does.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from agencies.labels import category_label, kind_label, status_label
from agencies.tables import Agency, Complaint
from engine.errors import NotFound
from web import queries
from web.deps import WORD, BusinessUser, Id, SessionDep
from web.schemas import BusinessComplaintDetail, BusinessComplaintPage, BusinessComplaintSummary

router = APIRouter(prefix="/api/v1/business", tags=["business"])


def _summary(complaint: Complaint) -> dict[str, Any]:
    seen = queries.business_seen(complaint)
    return {"id": complaint.id, "tracking_no": complaint.tracking_no, "kind": complaint.kind,
            "kind_label": kind_label(complaint.kind), "status": complaint.status,
            "status_label": status_label(complaint.status), "category": complaint.category,
            "category_label": category_label(complaint.category), "subject": complaint.subject,
            "received_at": complaint.received_at, "complainant_name": seen.name, "complainant_phone": seen.phone}


@router.get("/complaints", response_model=BusinessComplaintPage)
def list_complaints(principal: BusinessUser, session: SessionDep,
                    status_: Annotated[str | None, Query(alias="status", max_length=30, pattern=WORD)] = None,
                    limit: Annotated[int, Query(ge=1, le=200)] = 50,
                    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> BusinessComplaintPage:
    """The complaints against your business, newest receipt first."""
    rows, total = queries.business_complaint_page(session, principal.business_id, limit=limit, offset=offset,
                                                  status=status_)
    return BusinessComplaintPage(items=[BusinessComplaintSummary.model_validate(_summary(c)) for c in rows],
                                 total=total)


@router.get("/complaints/{complaint_id}", response_model=BusinessComplaintDetail)
def get_complaint(complaint_id: Id, principal: BusinessUser, session: SessionDep) -> BusinessComplaintDetail:
    """A complaint against your business: what it is about and who handles it; the complainant masked."""
    complaint = queries.business_complaint(session, principal.business_id, complaint_id)
    if complaint is None:
        raise NotFound("未找到投诉 / complaint not found")
    agency = session.get(Agency, complaint.competent_agency_id) if complaint.competent_agency_id else None
    return BusinessComplaintDetail.model_validate({
        **_summary(complaint), "complainant_email": queries.business_seen(complaint).email,
        "handling_agency": agency.name if agency is not None else None,
        "business_name": complaint.business_name, "business_address": complaint.business_address,
        "business_platform": complaint.business_platform, "description": complaint.description,
        "amount": f"{complaint.amount:.2f}" if complaint.amount is not None else None,
        "occurred_on": complaint.occurred_on})
