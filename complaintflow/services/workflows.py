"""BPMN workflows: upload a file as a version, deploy a version, move waiting instances to another.

The API and the command line call the same functions, so an upload or a deployment is audited
whoever makes it (the command line acts as ``cli``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from complaintflow.wiring import Product
from engine import audit
from engine.db.tables import ProcessInstance, SpecVersion
from engine.errors import Conflict, NotFound
from engine.runner import Actor
from engine.specs import UploadResult, deploy, upload
from engine.version_migration import apply, plan


@dataclass(frozen=True)
class Deployed:
    """What ``upload_and_deploy`` did: the version the file is, whether it was new, whether it was deployed."""

    version: SpecVersion
    created: bool
    deployed: bool


def upload_workflow(product: Product, xml: bytes, filename: str, actor: Actor, *, comment: str | None = None,
                    based_on: int | None = None) -> UploadResult:
    """Store a validated file as the next version of its key (the same content is the same version); from the
    editor, with the admin's comment and the version it was edited from."""
    with product.uow() as uow:
        result = _upload(uow.session, product, xml, filename, actor, comment=comment, based_on=based_on)
        uow.commit()
        return result


def deploy_workflow(product: Product, key: str, version: int, actor: Actor) -> SpecVersion:
    """Make this version the one new instances of ``key`` use; running instances keep theirs."""
    with product.uow() as uow:
        row = _deploy(uow.session, product, key, version, actor)
        uow.commit()
        return row


def upload_and_deploy(product: Product, xml: bytes, filename: str, actor: Actor, *,
                      only_if_new: bool = False) -> Deployed:
    """Upload a file and deploy the version it is, in one transaction; with ``only_if_new`` a file
    already uploaded is left as it is (seeding twice deploys nothing again)."""
    with product.uow() as uow:
        deployed = upload_and_deploy_in(uow.session, product, xml, filename, actor, only_if_new=only_if_new)
        uow.commit()
        return deployed


def upload_and_deploy_in(session: Session, product: Product, xml: bytes, filename: str, actor: Actor, *,
                         only_if_new: bool = False) -> Deployed:
    """``upload_and_deploy`` inside a caller's transaction (the demo seed deploys several files in one)."""
    result = _upload(session, product, xml, filename, actor)
    version = result.version
    if only_if_new and not result.created:
        return Deployed(version, created=False, deployed=False)
    _deploy(session, product, version.key, version.version, actor)
    return Deployed(version, created=result.created, deployed=True)


def _upload(session: Session, product: Product, xml: bytes, filename: str, actor: Actor, *,
            comment: str | None = None, based_on: int | None = None) -> UploadResult:
    now = product.clock.now()
    result = upload(session, xml, filename=filename, actor=actor.username, now=now,
                    known_rules=product.deadlines.rule_names(), comment=comment, based_on=based_on)
    audit.record(session, actor=actor.username, action="workflow.uploaded", at=now, agency_code=actor.agency_code,
                 details={"key": result.version.key, "version": result.version.version,
                          "sha256": result.version.sha256, "created": result.created})
    return result


def _deploy(session: Session, product: Product, key: str, version: int, actor: Actor) -> SpecVersion:
    now = product.clock.now()
    row = deploy(session, key, version, actor=actor.username, now=now)
    audit.record(session, actor=actor.username, action="workflow.deployed", at=now, agency_code=actor.agency_code,
                 details={"key": key, "version": version})
    return row


def migrate_instances(product: Product, key: str, from_version: int, to_version: int, actor: Actor,
                      instance_ids: list[int] | None, apply_changes: bool) -> list[dict[str, Any]]:
    """Dry-run (or apply) moving the running instances of ``key`` vN to vM.

    Each instance moves in its own transaction (a batch of use cases, not one): an instance that
    cannot move is reported and does not hold back the others. Every move is audited by the runner."""
    with product.reader() as uow:
        versions = {number: version_id for number, version_id in uow.session.execute(
            select(SpecVersion.version, SpecVersion.id).where(
                SpecVersion.key == key, SpecVersion.version.in_([from_version, to_version])))}
        if from_version not in versions or to_version not in versions:
            raise NotFound("未找到流程版本 / workflow version not found")
        query = select(ProcessInstance.id).where(ProcessInstance.spec_version_id == versions[from_version],
                                                 ProcessInstance.status == "running")
        if instance_ids:
            query = query.where(ProcessInstance.id.in_(instance_ids))
        candidates = list(uow.session.scalars(query.order_by(ProcessInstance.id)))
    reports: list[dict[str, Any]] = []
    for instance_id in candidates:
        with product.uow() as uow:
            try:
                if apply_changes:
                    result = apply(uow.session, product.runner, instance_id, versions[to_version], actor)
                    uow.commit()
                else:
                    result = plan(uow.session, product.runner, instance_id, versions[to_version])
                reports.append({"instance_id": instance_id, "safe": result.safe, "applied": apply_changes,
                                "reasons": result.reasons, "changed_steps": result.changed_steps})
            except Conflict as exc:
                reports.append({"instance_id": instance_id, "safe": False, "applied": False, "reasons": [str(exc)],
                                "changed_steps": []})
    return reports
