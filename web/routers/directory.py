"""Who am I, and which agencies exist."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select

from agencies.tables import Agency
from web.deps import CurrentUser, SessionDep
from web.schemas import AgencyOut, MeOut

router = APIRouter(prefix="/api/v1", tags=["directory"])


def _agencies(session: SessionDep) -> list[AgencyOut]:
    rows = session.scalars(select(Agency).where(Agency.active.is_(True))
                           .order_by(Agency.region_code, Agency.code)).all()
    codes = {a.id: a.code for a in rows}
    return [AgencyOut(code=a.code, name=a.name, short_name=a.short_name, kind=a.kind, region_code=a.region_code,
                      parent_code=codes.get(a.parent_id) if a.parent_id else None) for a in rows]


@router.get("/me", response_model=MeOut)
def me(principal: CurrentUser, session: SessionDep) -> MeOut:
    agency = next((a for a in _agencies(session) if a.code == principal.actor.agency_code), None)
    return MeOut(username=principal.user.username, display_name=principal.user.display_name, agency=agency,
                 roles=list(principal.user.roles))


@router.get("/agencies", response_model=list[AgencyOut])
def agencies(_principal: CurrentUser, session: SessionDep) -> list[AgencyOut]:
    return _agencies(session)
