"""Admin-only changes that follow the law: version diffs, migrations, deadline rules, calendar years."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from complaintflow.services import deadlines, workflows
from engine.bpmn.diff import diff_versions
from engine.db.tables import CalendarYear, SpecVersion
from engine.deadlines.config import load_policy
from engine.errors import NotFound
from web.deps import MAX_ID, AdminUser, Key, ProductDep, SessionDep

router = APIRouter(prefix="/api/v1", tags=["admin"])


class MigrationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    from_version: int = Field(ge=1, le=MAX_ID)
    to_version: int = Field(ge=1, le=MAX_ID)
    instance_ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] | None = Field(default=None, max_length=1000)
    dry_run: bool = True


class RuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=50, pattern=r"^[a-z_]+$")
    period: str = Field(min_length=2, max_length=10)
    valid_from: date
    extension: str | None = Field(default=None, max_length=10)
    source: str = Field(default="", max_length=300, pattern=r"^[^\x00]*$")


class YearIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    holidays: list[date] = Field(max_length=60)
    workdays: list[date] = Field(default_factory=list, max_length=30)


@router.get("/workflows/{key}/diff", tags=["workflows"])
def diff(key: Key, _admin: AdminUser, session: SessionDep, from_version: Annotated[int, Query(alias="from", ge=1,
                                                                                              le=MAX_ID)],
         to_version: Annotated[int, Query(alias="to", ge=1, le=MAX_ID)]) -> dict[str, Any]:
    """Elements added, removed and changed between two versions (names, lanes, forms, rules, conditions)."""
    rows = {r.version: r for r in session.scalars(select(SpecVersion).where(
        SpecVersion.key == key, SpecVersion.version.in_([from_version, to_version])))}
    if from_version not in rows or to_version not in rows:
        raise NotFound("未找到流程版本 / workflow version not found")
    return diff_versions(rows[from_version].bpmn_xml, rows[to_version].bpmn_xml)


@router.post("/workflows/{key}/migrations", tags=["workflows"])
def migrate(key: Key, body: MigrationIn, admin: AdminUser, product: ProductDep) -> list[dict[str, Any]]:
    """Per waiting instance: can it move to the new version (dry run), or move it (each audited)."""
    return workflows.migrate_instances(product, key, body.from_version, body.to_version, admin.actor,
                                       body.instance_ids, apply_changes=not body.dry_run)


@router.get("/deadline-rules")
def rules(_admin: AdminUser, session: SessionDep) -> list[dict[str, Any]]:
    policy = load_policy(session)
    return [{"name": v.name, "period": str(v.period), "valid_from": v.valid_from, "valid_until": v.valid_until,
             "extension": str(v.extension) if v.extension else None, "counts_from": v.counts_from,
             "source": v.source} for name in policy.names() for v in policy.versions(name)]


@router.post("/deadline-rules", status_code=201)
def add_rule(body: RuleIn, admin: AdminUser, product: ProductDep) -> list[dict[str, Any]]:
    policy = deadlines.add_rule_version(product, body.name, body.period, body.valid_from, admin.actor,
                                        extension=body.extension, source=body.source)
    return [{"period": str(v.period), "valid": v.describe_validity()} for v in policy.versions(body.name)]


@router.get("/calendar/years")
def years(_admin: AdminUser, session: SessionDep) -> list[dict[str, Any]]:
    return [{"year": r.year, "holidays": r.holidays, "workdays": r.workdays, "updated_by": r.updated_by,
             "updated_at": r.updated_at} for r in session.scalars(select(CalendarYear).order_by(CalendarYear.year))]


@router.put("/calendar/years/{year}")
def set_year(year: Annotated[int, Path(ge=1900, le=2099)], body: YearIn, admin: AdminUser,
             product: ProductDep) -> dict[str, Any]:
    """Enter a year's holidays and make-up working days; provisional deadlines are recomputed."""
    entered = deadlines.set_calendar_year(product, year, body.holidays, body.workdays, admin.actor)
    return {"year": entered.year, "recomputed_tasks": entered.recomputed_tasks,
            "recomputed_timer_instances": entered.recomputed_timer_instances}
