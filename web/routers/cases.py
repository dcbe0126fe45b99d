"""Cases from complaint-to-case conversion, and process instances."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import select

from agencies.tables import Case, ComplaintAgency
from engine.db.tables import OpenTask, PendingTimer, ProcessInstance, SpecVersion
from engine.errors import NotFound
from web import queries
from web.deps import CurrentUser, Id, ProductDep, SessionDep, StaffUser
from web.schemas import CaseOut, InstanceOut

router = APIRouter(prefix="/api/v1", tags=["cases"])


@router.get("/cases", response_model=list[CaseOut])
def list_cases(principal: StaffUser, session: SessionDep, limit: Annotated[int, Query(ge=1, le=200)] = 50,
               offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> Any:
    codes = queries.agency_codes(session)
    rows = session.scalars(queries.visible_cases(session, principal.agency_id)
                           .order_by(Case.filed_at.desc(), Case.id.desc()).limit(limit).offset(offset))
    return [queries.case_out(c, codes) for c in rows]


@router.get("/cases/{case_id}", response_model=CaseOut)
def get_case(case_id: Id, principal: StaffUser, session: SessionDep) -> Any:
    case = session.scalar(queries.visible_cases(session, principal.agency_id).where(Case.id == case_id))
    if case is None:
        raise NotFound("未找到案件 / case not found")
    return queries.case_out(case, queries.agency_codes(session))


@router.get("/process-instances/{instance_id}", response_model=InstanceOut, tags=["workflows"])
def get_instance(instance_id: Id, principal: CurrentUser, session: SessionDep, product: ProductDep) -> Any:
    instance = session.get(ProcessInstance, instance_id)
    if instance is None:
        raise NotFound("未找到流程实例 / instance not found")
    if not principal.is_admin:
        involved = instance.complaint_id is not None and session.scalar(select(ComplaintAgency.agency_id).where(
            ComplaintAgency.complaint_id == instance.complaint_id,
            ComplaintAgency.agency_id == principal.agency_id))
        if not involved:
            raise NotFound("未找到流程实例 / instance not found")
    spec = session.get(SpecVersion, instance.spec_version_id)
    now = product.clock.now()
    tasks = session.scalars(select(OpenTask).where(OpenTask.instance_id == instance_id)).all()
    timers = session.scalars(select(PendingTimer).where(PendingTimer.instance_id == instance_id)).all()
    return {"id": instance.id, "spec_key": spec.key if spec else "?", "spec_version": spec.version if spec else 0,
            "status": instance.status, "version": instance.version, "complaint_id": instance.complaint_id,
            "open_tasks": [queries.task_out(t, now) for t in tasks],
            "pending_timers": [{"task_name": t.task_name, "fire_at": t.fire_at} for t in timers]}
