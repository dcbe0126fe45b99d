"""Use cases behind the API and the CLI: each runs in one unit of work and commits once.

Routes call these and never commit themselves; everything a use case changes — workflow state,
task index, audit, outbox — commits together or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError

from agencies.repository import get_user
from agencies.submission import Submitted, submit_complaint, validate_submission
from agencies.submission_keys import Render, SubmissionGuard
from agencies.tables import Agency
from agencies.users import actor_for
from complaintflow.wiring import Product
from engine.db.tables import OpenTask, SpecVersion
from engine.deadlines.suspension import resume, suspend
from engine.errors import NotFound
from engine.runner import Actor, CompletionResult
from engine.specs import UploadResult, deploy, upload


@dataclass(frozen=True)
class Replayed:
    """A repeated ``Idempotency-Key`` with the same body: the first answer, as it was sent."""

    response: dict[str, Any]


def submit(product: Product, payload: dict[str, Any], actor: Actor | None, *, idempotency_key: str | None = None,
           render: Render | None = None) -> Submitted | Replayed:
    """Register a complaint; ``actor`` ``None`` is the public form (no ``received_at``, and an identical
    complaint within a day is refused). With ``idempotency_key`` the answer, as ``render`` makes it,
    is kept with the complaint and a repeat gets it again (``agencies.submission_keys``). Without a
    key, a staff submission stores nothing extra: the busiest path stays as it was."""
    now = product.clock.now()
    guard = SubmissionGuard.for_request(payload, actor.username if actor is not None else None, idempotency_key)
    try:
        with product.uow() as uow:
            first = guard.replay(uow.session, now)
            if first is not None:
                return Replayed(first)
            data = validate_submission(payload, now, public=guard.public)
            guard.refuse_duplicate(uow.session, data, now)
            submitted = submit_complaint(uow.session, product.runner, data, actor=actor, now=now,
                                         tracking_key=product.tracking_key)
            guard.remember(uow.session, submitted, now, render)
            uow.commit()
            return submitted
    except IntegrityError:
        if not guard.stores_rows:
            raise
        # a twin request committed the same key first (PostgreSQL let this insert wait for it)
        with product.uow() as uow:
            first = guard.after_race(uow.session, now)
        if first is None:
            raise
        return Replayed(first)


def complete_task(product: Product, task_id: str, data: Any, actor: Actor) -> CompletionResult:
    with product.uow() as uow:
        result = product.runner.complete_task(uow.session, task_id, data, actor)
        uow.commit()
        return result


def claim_task(product: Product, task_id: str, actor: Actor) -> None:
    with product.uow() as uow:
        product.runner.claim(uow.session, task_id, actor)
        uow.commit()


def release_task(product: Product, task_id: str, actor: Actor) -> None:
    with product.uow() as uow:
        product.runner.release(uow.session, task_id, actor)
        uow.commit()


def assign_task(product: Product, task_id: str, username: str, actor: Actor) -> None:
    """Hand a task over. The runner checks the caller's right before it looks ``username`` up; an
    unknown or inactive user (or one of an inactive agency) resolves to nobody, so the answer is
    the same as for a user of another agency."""
    with product.uow() as uow:
        session = uow.session

        def resolve(name: str) -> Actor | None:
            user = get_user(session, name)
            if user is None or not user.active or user.agency_id is None:
                return None
            agency = session.get(Agency, user.agency_id)
            return actor_for(session, user) if agency is not None and agency.active else None

        product.runner.assign(session, task_id, username, actor, resolve)
        uow.commit()


def suspend_task(product: Product, task_id: str, actor: Actor, reason: str) -> OpenTask:
    with product.uow() as uow:
        task = suspend(uow.session, product.runner, task_id, actor, reason)
        uow.commit()
        return task


def resume_task(product: Product, task_id: str, actor: Actor, reason: str) -> OpenTask:
    with product.uow() as uow:
        task = resume(uow.session, product.runner, task_id, actor, reason)
        uow.commit()
        return task


def upload_workflow(product: Product, xml: bytes, filename: str, actor: Actor) -> UploadResult:
    with product.uow() as uow:
        result = upload(uow.session, xml, filename=filename, actor=actor.username, now=product.clock.now(),
                        known_rules=product.deadlines.rule_names())
        product.runner.audit(uow.session, actor, "workflow.uploaded", None, None, None, {
            "key": result.version.key, "version": result.version.version, "sha256": result.version.sha256,
            "created": result.created})
        uow.commit()
        return result


def deploy_workflow(product: Product, key: str, version: int, actor: Actor) -> SpecVersion:
    with product.uow() as uow:
        row = deploy(uow.session, key, version, actor=actor.username, now=product.clock.now())
        product.runner.audit(uow.session, actor, "workflow.deployed", None, None, None,
                             {"key": key, "version": version})
        uow.commit()
        return row


def require(value: Any, what: str = "not found") -> Any:
    if value is None:
        raise NotFound(what)
    return value


def migrate_instances(product: Product, key: str, from_version: int, to_version: int, actor: Actor,
                      instance_ids: list[int] | None, apply_changes: bool) -> list[dict[str, Any]]:
    """Dry-run (or apply) moving waiting instances of ``key`` vN to vM; each instance in its own transaction."""
    from sqlalchemy import select

    from engine.db.tables import ProcessInstance
    from engine.errors import Conflict
    from engine.version_migration import apply, plan

    with product.reader() as uow:
        versions = dict(uow.session.execute(select(SpecVersion.version, SpecVersion.id).where(
            SpecVersion.key == key, SpecVersion.version.in_([from_version, to_version]))).all())
        if from_version not in versions or to_version not in versions:
            raise NotFound("workflow version not found")
        query = select(ProcessInstance.id).where(ProcessInstance.spec_version_id == versions[from_version],
                                                 ProcessInstance.status == "running")
        if instance_ids:
            query = query.where(ProcessInstance.id.in_(instance_ids))
        candidates = list(uow.session.scalars(query.order_by(ProcessInstance.id)))
    reports = []
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
