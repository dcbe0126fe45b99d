"""Complaints: intake (staff and public), lists, details, the audit timeline, public status."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Query, Request, status
from pydantic import AfterValidator, BaseModel
from sqlalchemy.orm import Session

from agencies.complaints import platform_regulator, supervised_complaint
from agencies.intake import EARLIEST_DATE, LATEST_DATE, bounded_date
from agencies.submission_keys import HEADER as IDEMPOTENCY_HEADER
from agencies.submission_keys import Render
from agencies.tables import Complaint
from complaintflow import rate_limits
from complaintflow.services import complaints as intake
from complaintflow.services import jurisdiction, limits
from complaintflow.wiring import Product
from engine.errors import NotFound
from web import queries
from web.deps import TEXT, WORD, Id, Principal, ProductDep, SessionDep, StaffUser, client_address
from web.errors import TooManyRequests
from web.responses import answer
from web.schemas import (
    ComplaintDetail,
    ComplaintPage,
    DesignateIn,
    DesignationOut,
    EventOut,
    StaffSubmittedOut,
    SubmittedOut,
)

router = APIRouter(prefix="/api/v1", tags=["complaints"])

ComplaintBody = Annotated[dict[str, Any], Body(
    description="the complaint body (agencies.intake.ComplaintIn)", examples=[{
    "kind": "complaint", "complainant": {"name": "张三", "phone": "13812345678"},
    "business": {"name": "某电器商行", "region_code": "341222"}, "category": "quality",
    "subject": "空调不制冷", "description": "购买一周后不制冷"}])]


def _limit(request: Request, product: Product, limit: rate_limits.Limit, message: str) -> None:
    """Count this request against a per-address limit shared by every server process (429 past it)."""
    if not limits.admit_request(product, limit, client_address(request)):
        raise TooManyRequests(message)


IdempotencyKey = Annotated[str | None, Header(alias=IDEMPOTENCY_HEADER, description=(
    "1–100 printable ASCII characters, new for each submission. Within 24 hours the same key with the same body "
    "answers the first answer again (same id, tracking number and code); with another body, 422."))]


def _submitted(submitted: intake.Submitted) -> dict[str, Any]:
    return {"id": submitted.complaint.id, "tracking_no": submitted.complaint.tracking_no,
            "tracking_code": submitted.tracking_code, "status": submitted.complaint.status,
            "process_instance_id": submitted.process_instance_id}


def _staff_answer(submitted: intake.Submitted) -> dict[str, Any]:
    return {**_submitted(submitted), "next_tasks": submitted.opened_tasks}


def _kept(model: type[BaseModel], content: Callable[[intake.Submitted], dict[str, Any]]) -> Render:
    """How an answer is stored for a repeated Idempotency-Key: JSON types only, exactly what is sent."""
    return lambda submitted: model.model_validate(content(submitted)).model_dump(mode="json")


def _replayed(model: type[BaseModel], replayed: intake.Replayed) -> Any:
    response = answer(model, replayed.response, status.HTTP_201_CREATED)
    response.headers["Idempotent-Replayed"] = "true"
    return response


@router.post("/complaints", status_code=status.HTTP_201_CREATED, response_model=StaffSubmittedOut)
def create_complaint(body: ComplaintBody, principal: StaffUser, product: ProductDep,
                     idempotency_key: IdempotencyKey = None) -> Any:
    """Register a complaint for your agency (or ``received_by``) and start its workflow; answers the tasks it
    opened."""
    submitted = intake.submit(product, body, principal.actor, idempotency_key=idempotency_key,
                              render=_kept(StaffSubmittedOut, _staff_answer))
    if isinstance(submitted, intake.Replayed):
        return _replayed(StaffSubmittedOut, submitted)
    return answer(StaffSubmittedOut, _staff_answer(submitted), status.HTTP_201_CREATED)


@router.post("/public/complaints", status_code=status.HTTP_201_CREATED, response_model=SubmittedOut,
             tags=["public"])
def create_public_complaint(body: ComplaintBody, request: Request, product: ProductDep,
                            idempotency_key: IdempotencyKey = None) -> Any:
    """The public form: routed to the competent regulator by the business's region; keep the tracking code.
    ``received_at`` is the time of arrival and may not be sent; the same complaint again within 24 hours is
    refused (409, with the earlier tracking number)."""
    _limit(request, product, rate_limits.PUBLIC_INTAKE, "提交过于频繁，请稍后再试 / too many submissions")
    submitted = intake.submit(product, body, None, idempotency_key=idempotency_key,
                              render=_kept(SubmittedOut, _submitted))
    if isinstance(submitted, intake.Replayed):
        return _replayed(SubmittedOut, submitted)
    return answer(SubmittedOut, _submitted(submitted), status.HTTP_201_CREATED)


FilterDate = Annotated[date, AfterValidator(bounded_date)]
_FILTER_DATES = f"a date of receipt in Asia/Shanghai, {EARLIEST_DATE}..{LATEST_DATE}"


@router.get("/complaints", response_model=ComplaintPage)
def list_complaints(principal: StaffUser, session: SessionDep,
                    status_: Annotated[str | None, Query(alias="status", max_length=30, pattern=WORD)] = None,
                    kind: Annotated[str | None, Query(max_length=20, pattern=WORD)] = None,
                    q: Annotated[str | None, Query(max_length=100, pattern=TEXT)] = None,
                    received_from: Annotated[FilterDate | None, Query(description=_FILTER_DATES)] = None,
                    received_to: Annotated[FilterDate | None, Query(description=_FILTER_DATES)] = None,
                    limit: Annotated[int, Query(ge=1, le=200)] = 50,
                    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> ComplaintPage:
    items, total = queries.list_complaints(session, principal.agency_id, status=status_, kind=kind, q=q,
                                           received_from=received_from, received_to=received_to, limit=limit,
                                           offset=offset)
    return ComplaintPage.model_validate({"items": items, "total": total})


def viewable_complaint(session: Session, complaint_id: int, principal: Principal) -> Complaint:
    """The complaint if the user's agency is involved in it, or the user supervises the regulator holding
    it (a supervisor of its supervising agency, who may designate another); else 404."""
    try:
        return queries.visible_complaint(session, complaint_id, principal.agency_id)
    except NotFound:
        supervised = supervised_complaint(session, complaint_id, principal.actor)
        if supervised is None:
            raise
        return supervised


def with_platform(session: Session, complaint: Complaint, detail: dict[str, Any]) -> dict[str, Any]:
    """The detail with the platform operator's USCC and the regulator where it is registered."""
    regulator = platform_regulator(session, complaint)
    return {**detail, "business_platform_uscc": complaint.business_platform_uscc,
            "platform_regulator": {"code": regulator.code, "name": regulator.name} if regulator else None}


@router.get("/complaints/{complaint_id}", response_model=ComplaintDetail)
def get_complaint(complaint_id: Id, principal: StaffUser, session: SessionDep, product: ProductDep) -> Any:
    """The complaint; the complainant's personal data whole only as far as your agency's part in it allows.
    ``platform_regulator``: where the platform operator (``business_platform_uscc``) is registered, the
    regulator that may handle complaints about businesses on the platform (Order 20 art. 12)."""
    complaint = viewable_complaint(session, complaint_id, principal)
    detail = queries.complaint_detail(session, complaint, product.clock.now(), principal.agency_id)
    return {**with_platform(session, complaint, detail), "archived_at": complaint.archived_at,
            "archive_sha256": complaint.archive_sha256}


@router.post("/complaints/{complaint_id}/designate", response_model=DesignationOut)
def designate(complaint_id: Id, body: DesignateIn, principal: StaffUser, product: ProductDep) -> Any:
    """指定管辖: a supervisor of the supervising agency assigns a complaint awaiting its acceptance decision to
    another of the agency's child regulators; the open review moves there with its deadline. 403 for anyone
    else who sees the complaint, 409 once the acceptance decision is made."""
    done = jurisdiction.designate(product, complaint_id, body.agency, body.reason, principal.actor)
    return DesignationOut(complaint_id=done.complaint_id, from_agency=done.from_agency, to_agency=done.to_agency,
                          tasks=done.tasks)


@router.get("/complaints/{complaint_id}/events", response_model=list[EventOut])
def complaint_events(complaint_id: Id, principal: StaffUser, session: SessionDep) -> Any:
    complaint = queries.visible_complaint(session, complaint_id, principal.agency_id)
    return queries.events(session, complaint, principal.agency_id)

