"""Businesses as an administrator enters and changes them (each change one audited unit of work).

Intake creates the businesses complaints name (``agencies.businesses``); an administrator adds one ahead of
its first complaint, corrects its name or address, and enrols it in online dispute resolution (``odr``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from agencies.businesses import by_name, checked_region, checked_uscc
from agencies.tables import Business
from complaintflow.wiring import Product
from engine import audit
from engine.errors import Conflict, NotFound
from engine.runner import Actor

CHANGEABLE = ("name", "address", "odr")


@dataclass(frozen=True)
class NewBusiness:
    name: str
    region_code: str
    uscc: str | None = None
    address: str | None = None
    odr: bool = False


def business_fields(business: Business) -> dict[str, Any]:
    """What the audit records of a business (and what the API answers, with ``created_at``)."""
    return {"id": business.id, "uscc": business.uscc, "name": business.name, "region_code": business.region_code,
            "address": business.address, "odr": business.odr}


def add_business(product: Product, new: NewBusiness, actor: Actor) -> Business:
    """A new business; 409 when one with the same USCC exists (or, without a USCC, one of the same name and
    region); 422 on a USCC that fails its check digit or an unknown region."""
    uscc = checked_uscc(new.uscc)
    region_code = checked_region(new.region_code)
    with product.uow() as uow:
        session = uow.session
        _refuse_twin(session, uscc, new.name, region_code)
        business = Business(uscc=uscc, name=new.name, region_code=region_code, address=new.address or None,
                            odr=new.odr, created_at=product.clock.now())
        session.add(business)
        session.flush()
        _audit(session, product, actor, "business.created", {"after": business_fields(business)})
        uow.commit()
        return business


def change_business(product: Product, business_id: int, sent: Mapping[str, Any], actor: Actor) -> Business:
    """Apply the fields of a change as sent (``name``, ``address``, ``odr``): ``None`` clears the address and
    is ignored for the others. 404 for an unknown business."""
    with product.uow() as uow:
        session = uow.session
        business = session.get(Business, business_id, with_for_update=True)
        if business is None:
            raise NotFound("未找到经营者 / business not found")
        before = business_fields(business)
        changes = {key: value for key, value in sent.items()
                   if key in CHANGEABLE and (value is not None or key == "address")}
        if "address" in changes:
            changes["address"] = changes["address"] or None
        new_name = changes.get("name")
        if new_name is not None and new_name != business.name and business.uscc is None:
            _refuse_twin(session, None, new_name, business.region_code)
        for key, value in changes.items():
            setattr(business, key, value)
        session.flush()
        _audit(session, product, actor, "business.changed", {"business": business.id, "before": before,
                                                             "after": business_fields(business)})
        uow.commit()
        return business


def _refuse_twin(session: Session, uscc: str | None, name: str, region_code: str) -> None:
    if uscc is not None:
        if session.scalar(select(Business.id).where(Business.uscc == uscc)) is not None:
            raise Conflict(f"统一社会信用代码 {uscc} 的经营者已存在 / a business with USCC {uscc} exists")
        return
    twin = by_name(session, name, region_code)
    if twin is not None and twin.uscc is None:
        raise Conflict(f"该地区已有名为“{name}”的经营者 / a business of that name exists in the region")


def _audit(session: Session, product: Product, actor: Actor, action: str, details: dict[str, Any]) -> None:
    audit.record(session, actor=actor.username, action=action, at=product.clock.now(),
                 agency_code=actor.agency_code, details=details)
