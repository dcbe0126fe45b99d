"""Complaints: intake (staff and public), lists, details, the audit timeline, public status."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Request, status

from agencies.complaints import find_by_tracking
from complaintflow import services
from web import queries
from web.deps import TEXT, WORD, Id, ProductDep, SessionDep, StaffUser
from web.errors import TooManyRequests
from web.responses import answer
from web.schemas import ComplaintDetail, ComplaintPage, EventOut, PublicStatus, StaffSubmittedOut, SubmittedOut
from web.security import RateLimiter

router = APIRouter(prefix="/api/v1", tags=["complaints"])

ComplaintBody = Annotated[dict[str, Any], Body(description="DESIGN §5 complaint body", examples=[{
    "kind": "complaint", "complainant": {"name": "张三", "phone": "13812345678"},
    "business": {"name": "某电器商行", "region_code": "341222"}, "category": "quality",
    "subject": "空调不制冷", "description": "购买一周后不制冷"}])]


def _limit(request: Request, name: str, message: str) -> None:
    limiter: RateLimiter = request.app.state.limits[name]
    key = request.client.host if request.client else "-"
    if limiter.blocked(key):
        raise TooManyRequests(message)
    limiter.hit(key)


def _submitted(submitted: services.Submitted) -> dict[str, Any]:
    return {"id": submitted.complaint.id, "tracking_no": submitted.complaint.tracking_no,
            "tracking_code": submitted.tracking_code, "status": submitted.complaint.status,
            "process_instance_id": submitted.process_instance_id}


@router.post("/complaints", status_code=status.HTTP_201_CREATED, response_model=StaffSubmittedOut)
def create_complaint(body: ComplaintBody, principal: StaffUser, product: ProductDep) -> Any:
    """Register a complaint for your agency (or ``received_by``) and start its workflow; answers the tasks it
    opened."""
    submitted = services.submit(product, body, principal.actor)
    return answer(StaffSubmittedOut, {**_submitted(submitted), "next_tasks": submitted.opened_tasks},
                  status.HTTP_201_CREATED)


@router.post("/public/complaints", status_code=status.HTTP_201_CREATED, response_model=SubmittedOut,
             tags=["public"])
def create_public_complaint(body: ComplaintBody, request: Request, product: ProductDep) -> SubmittedOut:
    """The public form: routed to the competent regulator by the business's region; keep the tracking code."""
    _limit(request, "public_intake", "提交过于频繁 / too many submissions from this address")
    return SubmittedOut(**_submitted(services.submit(product, body, None)))


@router.get("/complaints", response_model=ComplaintPage)
def list_complaints(principal: StaffUser, session: SessionDep,
                    status_: Annotated[str | None, Query(alias="status", max_length=30, pattern=WORD)] = None,
                    kind: Annotated[str | None, Query(max_length=20, pattern=WORD)] = None,
                    q: Annotated[str | None, Query(max_length=100, pattern=TEXT)] = None,
                    received_from: date | None = None, received_to: date | None = None,
                    limit: Annotated[int, Query(ge=1, le=200)] = 50,
                    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> ComplaintPage:
    items, total = queries.list_complaints(session, principal.user.agency_id, status=status_, kind=kind, q=q,
                                           received_from=received_from, received_to=received_to, limit=limit,
                                           offset=offset)
    return ComplaintPage(items=items, total=total)  # type: ignore[arg-type]


@router.get("/complaints/{complaint_id}", response_model=ComplaintDetail)
def get_complaint(complaint_id: Id, principal: StaffUser, session: SessionDep, product: ProductDep) -> Any:
    complaint = queries.visible_complaint(session, complaint_id, principal.user.agency_id)
    return queries.complaint_detail(session, complaint, product.clock.now())


@router.get("/complaints/{complaint_id}/events", response_model=list[EventOut])
def complaint_events(complaint_id: Id, principal: StaffUser, session: SessionDep) -> Any:
    queries.visible_complaint(session, complaint_id, principal.user.agency_id)
    return queries.events(session, complaint_id)


@router.get("/public/complaints/{tracking_no}", response_model=PublicStatus, tags=["public"])
def public_status(tracking_no: Annotated[str, Path(max_length=40, pattern=WORD)], request: Request, session: SessionDep,
                  code: Annotated[str, Query(min_length=1, max_length=40, pattern=WORD)]) -> Any:
    """Status for the complainant: no personal data. A wrong number and a wrong code look the same."""
    _limit(request, "public_lookup", "查询过于频繁 / too many lookups")
    complaint = services.require(find_by_tracking(session, tracking_no, code))
    return PublicStatus(tracking_no=complaint.tracking_no, kind=complaint.kind, status=complaint.status,
                        received_at=complaint.received_at, updated_at=complaint.updated_at)
