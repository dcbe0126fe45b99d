"""What a complainant does with their tracking number and code: read the status of their complaint,
and answer a business's settlement offer (online dispute resolution). A wrong number and a wrong code
look the same; both are rate limited per address, as guessing codes is the attack to slow down."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from sqlalchemy.orm import Session

from agencies.complaints import find_by_tracking
from agencies.odr import pending_offer
from agencies.public_status import public_view
from agencies.tables import Complaint
from complaintflow import rate_limits
from complaintflow.services import limits, odr
from complaintflow.wiring import Product
from engine.errors import NotFound
from web.deps import WORD, ProductDep, SessionDep, client_address
from web.errors import TooManyRequests
from web.schemas import OfferAnswer, PublicMilestone, PublicOffer, PublicStatus

router = APIRouter(prefix="/api/v1", tags=["public"])

TrackingNo = Annotated[str, Path(max_length=40, pattern=WORD)]
TrackingCode = Annotated[str, Query(min_length=1, max_length=40, pattern=WORD)]


@router.get("/public/complaints/{tracking_no}", response_model=PublicStatus)
def status_of(tracking_no: TrackingNo, code: TrackingCode, request: Request, session: SessionDep,
              product: ProductDep) -> Any:
    """Status for the complainant: in Chinese words, the handling agency, the next step and its deadline, the
    milestones and a settlement offer awaiting their answer; no personal data."""
    _limit(request, product, "查询过于频繁，请稍后再试 / too many lookups")
    complaint = find_by_tracking(session, tracking_no, code, tracking_key=product.tracking_key)
    if complaint is None:
        raise NotFound("未找到 / not found")
    return public_status(session, product, complaint)


@router.post("/public/complaints/{tracking_no}/decision", response_model=PublicStatus)
def answer_offer(tracking_no: TrackingNo, code: TrackingCode, body: OfferAnswer, request: Request,
                 product: ProductDep, session: SessionDep) -> Any:
    """Accept or decline the business's settlement offer. Accepting settles and closes the complaint;
    declining passes it to the competent regulator's acceptance review, whose period starts now. 404 for a
    wrong number or code (alike), 409 when no offer awaits an answer. Answers the status after it."""
    _limit(request, product, "操作过于频繁，请稍后再试 / too many requests")
    complaint = odr.answer_offer(product, tracking_no, code, body.accept)
    fresh = session.get(Complaint, complaint.id)
    assert fresh is not None  # answered just now
    return public_status(session, product, fresh)


def _limit(request: Request, product: Product, message: str) -> None:
    if not limits.admit_request(product, rate_limits.PUBLIC_LOOKUP, client_address(request)):
        raise TooManyRequests(message)


def public_status(session: Session, product: Product, complaint: Complaint) -> PublicStatus:
    """What the complainant may see of their complaint (the caller has checked number and code)."""
    view = public_view(session, complaint, product.runner.specs)
    offer = pending_offer(session, complaint)
    return PublicStatus(
        tracking_no=complaint.tracking_no, kind=complaint.kind, status=complaint.status,
        received_at=complaint.received_at, updated_at=complaint.updated_at, kind_label=view.kind_label,
        stage=view.status, status_label=view.status_label, handling_agency=view.agency, next_step=view.next_step,
        next_due_at=view.next_due_at,
        history=[PublicMilestone(at=m.at, label=m.label, agency=m.agency) for m in view.milestones],
        pending_offer=PublicOffer(offer=offer.offer, explanation=offer.explanation, offered_at=offer.offered_at,
                                  answer_by=offer.answer_by) if offer is not None else None)
