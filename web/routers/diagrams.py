"""A complaint's process on its BPMN diagram, with where it stands: for a viewer (bpmn-js) to draw."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from web import queries
from web.deps import Id, ProductDep, SessionDep, StaffUser

router = APIRouter(prefix="/api/v1", tags=["complaints"])


class DiagramTimer(BaseModel):
    element_id: str = Field(description="the timer event's BPMN id")
    due_at: datetime = Field(description="when it fires")
    rule: str | None = Field(description="the deadline rule its expression counts by (e.g. mediation)")
    label: str = Field(description="what the time limit is called, in Chinese (调解期限)")


class DiagramOut(BaseModel):
    instance_id: int
    spec_key: str
    spec_version: int
    bpmn_xml: str = Field(description="the diagram of the spec version the instance runs on")
    completed: list[str] = Field(description="ids of the activities and events passed (not running again now)")
    current: list[str] = Field(description="ids of the open user tasks and the events waiting now")
    suspended: list[str] = Field(description="ids of the open tasks whose clock is stopped (also in current)")
    timers: list[DiagramTimer] = Field(description="running timers, soonest first")


@router.get("/complaints/{complaint_id}/diagram", response_model=DiagramOut)
def complaint_diagram(complaint_id: Id, principal: StaffUser, session: SessionDep, product: ProductDep) -> Any:
    """The complaint's process diagram and its live state; 404 for a complaint your agency is not involved in."""
    complaint = queries.visible_complaint(session, complaint_id, principal.agency_id)
    return queries.complaint_diagram(session, product.specs, complaint)
