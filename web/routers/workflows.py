"""BPMN workflows: validate, upload as a version, deploy, fetch (admins; staff may read the XML)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response
from sqlalchemy import select

from complaintflow.services import workflows
from engine.bpmn.validation import validate_bpmn
from engine.db.tables import SpecDeployment, SpecVersion
from engine.errors import InvalidWorkflow, NotFound
from web.deps import TEXT, AdminUser, CurrentUser, Id, Key, ProductDep, SessionDep
from web.schemas import ValidationOut, WorkflowVersionOut

router = APIRouter(prefix="/api/v1/workflows", tags=["workflows"])
BpmnBody = Annotated[bytes, Body(media_type="application/xml", description="a BPMN 2.0 file")]


def _version_out(row: SpecVersion, deployed: set[int]) -> WorkflowVersionOut:
    return WorkflowVersionOut(key=row.key, version=row.version, filename=row.filename, sha256=row.sha256,
                              uploaded_by=row.uploaded_by, uploaded_at=row.uploaded_at, deployed=row.id in deployed)


@router.get("", response_model=list[WorkflowVersionOut])
def list_workflows(_admin: AdminUser, session: SessionDep) -> list[WorkflowVersionOut]:
    deployed = set(session.scalars(select(SpecDeployment.spec_version_id)))
    rows = session.scalars(select(SpecVersion).order_by(SpecVersion.key, SpecVersion.version)).all()
    return [_version_out(r, deployed) for r in rows]


@router.post("/validate", response_model=ValidationOut)
def validate(body: BpmnBody, _admin: AdminUser, product: ProductDep) -> ValidationOut:
    try:
        validate_bpmn(body, known_rules=product.deadlines.rule_names())
    except InvalidWorkflow as exc:
        return ValidationOut.model_validate({"valid": False, "errors": [i.as_dict() for i in exc.issues]})
    return ValidationOut(valid=True, errors=[])


@router.post("", response_model=WorkflowVersionOut, status_code=201)
def upload_workflow(
    body: BpmnBody, admin: AdminUser, product: ProductDep,
    filename: Annotated[str, Query(max_length=200, pattern=TEXT)] = "upload.bpmn",
) -> WorkflowVersionOut:
    """Store a validated file as the next version of its key (the same content gives the same version)."""
    result = workflows.upload_workflow(product, body, filename, admin.actor)
    return _version_out(result.version, set())


@router.post("/{key}/versions/{version}/deploy", response_model=WorkflowVersionOut)
def deploy(key: Key, version: Id, admin: AdminUser, product: ProductDep) -> WorkflowVersionOut:
    """Make this version the one new instances use; running instances keep theirs."""
    row = workflows.deploy_workflow(product, key, version, admin.actor)
    return _version_out(row, {row.id})


@router.get("/{key}/versions/{version}/bpmn", response_class=Response,
            responses={200: {"content": {"application/xml": {}}}})
def get_xml(key: Key, version: Id, principal: CurrentUser, session: SessionDep) -> Any:
    row = session.scalar(select(SpecVersion).where(SpecVersion.key == key, SpecVersion.version == version))
    if row is None:
        raise NotFound("未找到流程版本 / workflow version not found")
    return Response(row.bpmn_xml, media_type="application/xml")
