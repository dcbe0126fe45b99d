"""What staff do with a task: claim, release, hand over, complete, stop and restart its clock.

The rights (who may act on which task) are the runner's (``runner.tasks``); each function here is one
transaction around one of its transitions, so the workflow state, the task index, the audit event and any
notice it sends commit together.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from agencies.archive import complaint_of_own_task
from agencies.complaints import refuse_if_archived
from agencies.repository import get_user
from agencies.tables import Agency
from agencies.users import actor_for
from agencies.vocab import Role
from complaintflow.wiring import Product
from engine.db.tables import OpenTask
from engine.deadlines.suspension import resume, suspend
from engine.errors import Forbidden
from engine.runner import Actor, CompletionResult


def _refuse_if_archived(session: Session, task_id: str) -> None:
    """A task of an archived complaint's own process no longer changes (409); a linked case's tasks run on."""
    complaint = complaint_of_own_task(session, task_id)
    if complaint is not None:
        refuse_if_archived(complaint)


def complete_task(product: Product, task_id: str, data: Any, actor: Actor) -> CompletionResult:
    """Validate ``data`` against the task's form and advance the workflow."""
    with product.uow() as uow:
        _refuse_if_archived(uow.session, task_id)
        result = product.runner.complete_task(uow.session, task_id, data, actor)
        uow.commit()
        return result


def claim_task(product: Product, task_id: str, actor: Actor) -> None:
    with product.uow() as uow:
        _refuse_if_archived(uow.session, task_id)
        product.runner.tasks.claim(uow.session, task_id, actor)
        uow.commit()


def release_task(product: Product, task_id: str, actor: Actor) -> None:
    with product.uow() as uow:
        _refuse_if_archived(uow.session, task_id)
        product.runner.tasks.release(uow.session, task_id, actor)
        uow.commit()


def assign_task(product: Product, task_id: str, username: str, actor: Actor) -> None:
    """Hand a task over. The runner checks the caller's right before it looks ``username`` up; an
    unknown or inactive user (or one of an inactive agency) resolves to nobody, so the answer is
    the same as for a user of another agency."""
    with product.uow() as uow:
        session = uow.session
        _refuse_if_archived(session, task_id)

        def resolve(name: str) -> Actor | None:
            user = get_user(session, name)
            if user is None or not user.active or user.agency_id is None:
                return None
            agency = session.get(Agency, user.agency_id)
            return actor_for(session, user) if agency is not None and agency.active else None

        product.runner.tasks.assign(session, task_id, username, actor, resolve)
        uow.commit()


def suspend_task(product: Product, task_id: str, actor: Actor, reason: str) -> OpenTask:
    """Stop the task's clock; its deadline moves by the suspended span when it is resumed. Only agency
    staff may: the time spent on testing or appraisal is the handling agency's to exclude, and a party
    (a business answering first) stopping its own clock would hold the complaint back from the regulator."""
    if Role.BUSINESS.value in actor.roles:
        raise Forbidden("经营者不能暂停计时 / a business cannot stop a task's clock")
    with product.uow() as uow:
        _refuse_if_archived(uow.session, task_id)
        task = suspend(uow.session, product.runner, task_id, actor, reason)
        uow.commit()
        return task


def resume_task(product: Product, task_id: str, actor: Actor, reason: str) -> OpenTask:
    """Restart the task's clock and recompute its deadline."""
    with product.uow() as uow:
        _refuse_if_archived(uow.session, task_id)
        task = resume(uow.session, product.runner, task_id, actor, reason)
        uow.commit()
        return task
