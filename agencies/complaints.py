"""Registering complaints (登记) and the complainant's tracking lookup."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from agencies.errors import TrackingNumberClash
from agencies.intake import ComplaintIn, require_real_identity
from agencies.repository import involve
from agencies.tables import Agency, Complaint
from agencies.tracking import (
    hash_tracking_code,
    new_tracking_code,
    new_tracking_no,
    normalize_tracking_no,
    verify_tracking_code,
)
from agencies.vocab import ComplaintStatus, Involvement
from engine.clock import ensure_aware

_TRACKING_NO_ATTEMPTS = 8


def register_complaint(
    session: Session,
    data: ComplaintIn,
    *,
    received_by: Agency,
    competent: Agency | None,
    now: datetime,
    tracking_key: bytes,
) -> tuple[Complaint, str]:
    """Create the complaint row (status ``registered``) and its involvement rows; return it
    with the secret tracking code, which exists only in this return value from now on.

    Enforces the real-identity rule for the receiving agency (``ValidationError`` on
    ``complainant.id_number``). The competent agency is involved before the receiving one, so an
    agency that is both is recorded as ``competent``. ``tracking_key`` (derived from the
    product's secret key) signs the tracking code. Starting the workflow is the caller's next step
    (it sets ``process_instance_id``).
    """
    require_real_identity(data, received_by.kind)
    now = ensure_aware(now)
    key = tracking_key
    tracking_no = _free_tracking_no(session, data.received_at)
    code = new_tracking_code()
    complaint = Complaint(
        tracking_no=tracking_no,
        tracking_code_hash=hash_tracking_code(tracking_no, code, key),
        kind=data.kind.value,
        status=ComplaintStatus.REGISTERED.value,
        received_at=data.received_at,
        received_by_id=received_by.id,
        competent_agency_id=competent.id if competent is not None else None,
        complainant_name=data.complainant.name,
        complainant_phone=data.complainant.phone,
        complainant_id_number=data.complainant.id_number,
        complainant_email=data.complainant.email,
        business_name=data.business.name,
        business_region_code=data.business.region_code,
        business_address=data.business.address,
        business_uscc=data.business.uscc,
        business_platform=data.business.platform,
        category=data.category.value,
        subject=data.subject,
        description=data.description,
        amount=data.amount,
        occurred_on=data.occurred_on,
        process_instance_id=None,
        created_at=now,
        updated_at=now,
    )
    session.add(complaint)
    session.flush()
    if competent is not None:
        involve(session, complaint.id, competent.id, Involvement.COMPETENT)
    involve(session, complaint.id, received_by.id, Involvement.RECEIVING)
    return complaint, code


def _free_tracking_no(session: Session, received_at: datetime) -> str:
    """A random tracking number not yet in use. Two registrations drawing the same number in
    the same instant would still be stopped by the unique constraint (the unit of work retries)."""
    for _ in range(_TRACKING_NO_ATTEMPTS):
        candidate = new_tracking_no(received_at)
        if session.scalar(select(Complaint.id).where(Complaint.tracking_no == candidate)) is None:
            return candidate
    raise TrackingNumberClash(_TRACKING_NO_ATTEMPTS)


def find_by_tracking(
    session: Session, tracking_no: str, code: str, *, tracking_key: bytes
) -> Complaint | None:
    """The complaint for the public tracking page, only if number and code match.

    Wrong number and wrong code look the same to the caller; a malformed number (failed check
    digit) is refused before touching the database.
    """
    key = tracking_key
    normalized = normalize_tracking_no(tracking_no)
    if normalized is None:
        return None
    complaint = session.scalar(select(Complaint).where(Complaint.tracking_no == normalized))
    if complaint is None:
        verify_tracking_code(normalized, code, "v1$" + "0" * 64, key)  # same work as a miss on the code
        return None
    return complaint if verify_tracking_code(normalized, code, complaint.tracking_code_hash, key) else None
