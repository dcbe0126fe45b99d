"""Administrators list, add and change businesses (every change audited), e.g. to enrol one in online
dispute resolution."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status
from sqlalchemy import select

from agencies.businesses import count, search_businesses
from agencies.tables import Business
from complaintflow.services import businesses
from engine.errors import NotFound
from web.deps import TEXT, AdminUser, Id, ProductDep, SessionDep
from web.schemas import BusinessIn, BusinessListOut, BusinessOut, BusinessPatch

router = APIRouter(prefix="/api/v1/admin/businesses", tags=["admin"])


def _out(business: Business) -> BusinessOut:
    return BusinessOut.model_validate(business)


@router.get("", response_model=BusinessListOut)
def list_businesses(_admin: AdminUser, session: SessionDep,
                    q: Annotated[str | None, Query(max_length=100, pattern=TEXT,
                                                   description="part of the name, or the start of the USCC")] = None,
                    odr: Annotated[bool | None, Query(description="enrolled in ODR or not")] = None,
                    limit: Annotated[int, Query(ge=1, le=200)] = 50,
                    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> BusinessListOut:
    query = search_businesses(q, odr=odr)
    total = count(session, query)
    rows = session.scalars(query.order_by(Business.name, Business.id).limit(limit).offset(offset)).all()
    return BusinessListOut(items=[_out(b) for b in rows], total=total)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=BusinessOut)
def add_business(body: BusinessIn, admin: AdminUser, product: ProductDep) -> BusinessOut:
    """A business ahead of its first complaint (409 if its USCC, or its name in the region, is known)."""
    return _out(businesses.add_business(product, businesses.NewBusiness(**body.model_dump()), admin.actor))


@router.patch("/{business_id}", response_model=BusinessOut)
def change_business(business_id: Id, body: BusinessPatch, admin: AdminUser, product: ProductDep) -> BusinessOut:
    """Correct the name or address, or enrol the business in online dispute resolution (``odr``)."""
    return _out(businesses.change_business(product, business_id, body.model_dump(exclude_unset=True), admin.actor))


@router.get("/{business_id}", response_model=BusinessOut)
def get_business(business_id: Id, _admin: AdminUser, session: SessionDep) -> BusinessOut:
    business = session.scalar(select(Business).where(Business.id == business_id))
    if business is None:
        raise NotFound("未找到经营者 / business not found")
    return _out(business)
