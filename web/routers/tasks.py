"""The task inbox and the task actions of an agency's liaisons and supervisors, and of a business's own
users for the tasks their business answers (online dispute resolution): reading, claiming, completing."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, status

from complaintflow.services import tasks as task_actions
from engine.task_inbox import InboxQuery, inbox_page, workable_lanes
from web import queries
from web.deps import MAX_ID, ProductDep, SessionDep, StaffUser, TaskWorker
from web.responses import answer
from web.schemas import AssignIn, CompleteIn, CompletionOut, ReasonIn, TaskDetail, TaskOut, TaskPage

router = APIRouter(prefix="/api/v1/tasks", tags=["tasks"])


@router.get("", response_model=TaskPage)
def list_tasks(principal: TaskWorker, session: SessionDep, product: ProductDep,
               assignee: Literal["me", "unassigned"] | None = None, overdue: bool | None = None,
               complaint_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
               limit: Annotated[int, Query(ge=1, le=200)] = 50,
               offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> Any:
    """Your agency's open tasks that your roles may work (a supervisor: all of them), the soonest
    deadline first; for a business's user, its business's."""
    now = product.clock.now()
    query = InboxQuery(agency_code=principal.actor.agency_code or "", username=principal.user.username,
                       assignee=assignee, overdue=overdue, complaint_id=complaint_id,
                       lanes=workable_lanes(product.runner.tasks.lanes, principal.actor), limit=limit, offset=offset)
    items, total = inbox_page(session, query, now)
    return answer(TaskPage, {"items": [queries.task_out(task, now) for task in items], "total": total})


@router.get("/{task_id}", response_model=TaskDetail)
def get_task(task_id: str, principal: TaskWorker, session: SessionDep, product: ProductDep) -> TaskDetail:
    """The task with its form (a JSON Schema) and the data it was opened with."""
    view = product.runner.task_view(session, task_id, principal.actor)
    data = {k: v for k, v in view.data.items() if isinstance(v, str | int | float | bool | list | dict) or v is None}
    return TaskDetail(**queries.task_out(view.task, product.clock.now()),
                      form=view.definition.form if view.definition else None, data=data)


@router.post("/{task_id}/claim", status_code=status.HTTP_204_NO_CONTENT)
def claim(task_id: str, principal: TaskWorker, product: ProductDep) -> None:
    task_actions.claim_task(product, task_id, principal.actor)


@router.post("/{task_id}/release", status_code=status.HTTP_204_NO_CONTENT)
def release(task_id: str, principal: TaskWorker, product: ProductDep) -> None:
    task_actions.release_task(product, task_id, principal.actor)


@router.post("/{task_id}/assign", status_code=status.HTTP_204_NO_CONTENT)
def assign(task_id: str, body: AssignIn, principal: StaffUser, product: ProductDep) -> None:
    """Hand the task to a colleague: for a supervisor or the current assignee (403 otherwise, whoever is
    named). Any username that cannot work the task — unknown, inactive, of another agency, without the
    lane's role — gets the same 422."""
    task_actions.assign_task(product, task_id, body.username, principal.actor)


@router.post("/{task_id}/complete", response_model=CompletionOut)
def complete(task_id: str, body: CompleteIn, principal: TaskWorker, product: ProductDep) -> Any:
    """Validate the data against the task's form and advance the workflow; answers the tasks it opened.
    A suspended task is resumed first (409)."""
    result = task_actions.complete_task(product, task_id, body.data, principal.actor)
    return answer(CompletionOut, {"instance_id": result.instance_id, "instance_status": result.instance_status,
                                  "next_tasks": result.next_tasks})


@router.post("/{task_id}/suspend", response_model=TaskOut)
def suspend(task_id: str, body: ReasonIn, principal: StaffUser, product: ProductDep) -> TaskOut:
    """Stop the task's clock (检定、检验、检测、鉴定): its deadline moves by the suspended span. An unclaimed
    task's clock is anyone's who may work it; a claimed one's only its assignee's or a supervisor's."""
    task = task_actions.suspend_task(product, task_id, principal.actor, body.reason)
    return TaskOut(**queries.task_out(task, product.clock.now()))


@router.post("/{task_id}/resume", response_model=TaskOut)
def resume(task_id: str, body: ReasonIn, principal: StaffUser, product: ProductDep) -> TaskOut:
    """Restart the task's clock and recompute its deadline (same rights as suspending)."""
    task = task_actions.resume_task(product, task_id, principal.actor, body.reason)
    return TaskOut(**queries.task_out(task, product.clock.now()))
