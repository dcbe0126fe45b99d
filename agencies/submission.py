"""Submitting a complaint (投诉/举报/咨询): validate, route, register and start its workflow — one transaction."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from agencies.businesses import find_business, link_complaint, party_code, party_of
from agencies.complaints import register_complaint
from agencies.input_messages import COMPLAINT_LABELS, chinese_message, label_of
from agencies.intake import ComplaintIn, parse_complaint
from agencies.repository import competent_regulator, get_agency_by_code
from agencies.tables import Agency, Business, Complaint
from engine.clock import SHANGHAI
from engine.errors import FieldError, InvalidInput
from engine.runner import Actor, OpenedTask, Runner
from engine.specs import deployed_version

COMPLAINT_WORKFLOW = "complaint_handling"


@dataclass(frozen=True)
class Submitted:
    complaint: Complaint
    tracking_code: str
    process_instance_id: int
    opened_tasks: list[OpenedTask]


def field_errors(error: ValidationError) -> InvalidInput:
    """Every error of the complaint body, named by its path and told in Chinese (``中文 / English``)."""
    errors = []
    for e in error.errors():
        field = ".".join(str(p) for p in e["loc"]) or "body"
        errors.append(FieldError(field, chinese_message(e, label_of(field, COMPLAINT_LABELS))))
    return InvalidInput(errors)


def validate_submission(payload: Mapping[str, Any], now: datetime, *, public: bool = False) -> ComplaintIn:
    """The body as a ``ComplaintIn``, or ``InvalidInput`` naming every bad field. ``public``: from the
    public form, which may not set ``received_at``."""
    try:
        return parse_complaint(payload, now, public=public)
    except ValidationError as exc:
        raise field_errors(exc) from None


def submit_complaint(
    session: Session,
    runner: Runner,
    payload: Mapping[str, Any] | ComplaintIn,
    *,
    actor: Actor | None,
    now: datetime,
    tracking_key: bytes,
    public: bool = False,
    workflow_key: str = COMPLAINT_WORKFLOW,
    link_business: bool = True,
) -> Submitted:
    """Staff submit for their own agency by default; the public is routed to the competent regulator.

    ``payload`` is the decoded body, or a body ``validate_submission`` already checked (a caller that
    must look at the content before registering, e.g. to refuse a duplicate, validates only once).
    ``public`` marks the public form (an import without ``--as`` is not public: it carries the
    receipt times of the system it comes from). ``link_business=False`` leaves linking the business
    (``agencies.businesses.link_complaint``) to the caller, who may want it last: a new business's row
    stays locked until the transaction ends, and a twin submission must meet the caller's own checks
    (an ``Idempotency-Key``) first, not wait on that row."""
    data = payload if isinstance(payload, ComplaintIn) else validate_submission(payload, now, public=public)
    competent = competent_regulator(session, data.business.region_code)
    received_by = _receiving_agency(session, data, actor, competent)
    try:
        complaint, code = register_complaint(session, data, received_by=received_by, competent=competent, now=now,
                                             tracking_key=tracking_key)
    except ValidationError as exc:
        raise field_errors(exc) from None
    business = link_complaint(session, complaint, now) if link_business else find_business(session, party_of(complaint))
    version = deployed_version(session, workflow_key)
    record, opened = runner.start(
        session,
        version,
        initial_data(complaint, received_by, competent, business),
        actor or Actor("public"),
        complaint_id=complaint.id,
    )
    complaint.process_instance_id = record.id
    return Submitted(complaint, code, record.id, opened)


def _receiving_agency(session: Session, data: ComplaintIn, actor: Actor | None, competent: Agency | None) -> Agency:
    code = data.received_by or (actor.agency_code if actor is not None else None)
    if code is None:
        if competent is None:
            raise InvalidInput(
                [
                    FieldError(
                        "business.region_code",
                        "该地区没有可受理的市场监管部门 / no competent regulator for this region",
                    )
                ]
            )
        return competent
    agency = get_agency_by_code(session, code)
    if agency is None or not agency.active:
        raise InvalidInput([FieldError("received_by", f"未知的接收单位 / unknown agency {code!r}")])
    if actor is not None and actor.agency_code not in (None, code) and "admin" not in actor.roles:
        raise InvalidInput([FieldError("received_by", "只能以本单位名义登记 / staff register for their own agency")])
    return agency


def initial_data(complaint: Complaint, received_by: Agency, competent: Agency | None,
                 business: Business | None = None) -> dict[str, Any]:
    """The flat variables every reference workflow may rely on (workflows/README.md). ``business``:
    the business complained about when it is kept already (a business first named now is created
    not enrolled); an enrolled one answers first, as ``business_party``."""
    enrolled = business is not None and business.odr
    return {
        "complaint_id": complaint.id,
        "tracking_no": complaint.tracking_no,
        "kind": complaint.kind,
        "received_at": complaint.received_at.astimezone(SHANGHAI).isoformat(),
        "received_by": received_by.code,
        "received_by_kind": received_by.kind,
        "competent_agency": competent.code if competent is not None else None,
        "real_name": complaint.complainant_id_number is not None,
        "category": complaint.category,
        "subject": complaint.subject,
        "business_odr": enrolled,
        "business_party": party_code(business.id) if business is not None and enrolled else None,
    }
