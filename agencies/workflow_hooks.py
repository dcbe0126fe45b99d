"""The product's side of a workflow transition: complaints, cases and notices.

The engine calls these inside its transaction; everything they write commits (or rolls back) with
the workflow state. BPMN scripts reach them through the sandbox helpers (``file_case()``, …).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from agencies.blobs import BlobStore
from agencies.businesses import business_id_of
from agencies.cases import create_case
from agencies.documents import PDF, filename_of, issue_for_notice
from agencies.notices import notify_business, notify_complainant
from agencies.repository import get_agency_by_code, get_complaint
from agencies.tables import Agency, Case, Complaint, ComplaintAgency
from agencies.vocab import AgencyKind, CaseStatus, ComplaintStatus, Involvement
from engine.clock import Clock
from engine.db.affected import rows_affected
from engine.db.dialect import dialect_insert
from engine.db.tables import OpenTask
from engine.deadlines.service import DeadlineService
from engine.errors import FieldError, InvalidInput, ScriptError
from engine.runner import InstanceRecord, OpenedTask, TransitionContext
from notifications.config import OutboxConfig
from notifications.outbox import Attachment

CASE_AGENCY_KEYS = ("regulator_agency", "competent_agency")


class ProductScriptServices:
    """What ``now()``, ``due()``, ``notify_complainant()``, ``notify_business()``, ``file_case()`` and
    ``close_case()`` do."""

    def __init__(
        self, ctx: TransitionContext, instance: InstanceRecord, clock: Clock, deadlines: DeadlineService,
        outbox: OutboxConfig, blobs: BlobStore,
    ) -> None:
        self.ctx = ctx
        self.instance = instance
        self.clock = clock
        self.deadlines = deadlines
        self.outbox = outbox
        self.blobs = blobs
        self._notices = 0

    def now(self) -> datetime:
        return self.ctx.now

    def due(self, rule: str, start: str | datetime, received_at: str | None) -> datetime:
        return self.deadlines.due(rule, start, received_at).due_at

    def notify_complainant(self, template: str, context: Mapping[str, Any]) -> None:
        """Tell the complainant; a notice announcing a decision carries its official document (PDF),
        made now in this transition (``agencies.documents``)."""
        complaint_id, key = self._notice("notify_complainant", template, context)
        values = _plain(context)
        document = issue_for_notice(self.ctx.session, self.blobs, complaint_id=complaint_id, template=template,
                                    context=values, key=key, now=self.ctx.now)
        attachments = ([Attachment(filename_of(document), document.sha256, PDF)]
                       if document is not None and document.sha256 else [])
        notify_complainant(self.ctx.session, self.outbox, complaint_id=complaint_id, template=template,
                           context=values, key=key, now=self.ctx.now, attachments=attachments)

    def notify_business(self, template: str, context: Mapping[str, Any]) -> None:
        """Tell the business complained about, in-app (and by e-mail as its users chose): only an
        enrolled business has users; for any other no channel is known and nothing is queued."""
        complaint_id, key = self._notice("notify_business", template, context)
        notify_business(self.ctx.session, self.outbox, complaint_id=complaint_id,
                        business_id=business_id_of(_text(context.get("business_party"))), template=template,
                        context=_plain(context), key=key, now=self.ctx.now)

    def _notice(self, helper: str, template: str, context: Mapping[str, Any]) -> tuple[int, str]:
        """The complaint a script's notice is about, and the notice's key: unique per transition and notice,
        the same when the same transition is retried (the outbox then writes it once)."""
        complaint_id = _complaint_id(context, self.instance)
        if complaint_id is None:
            raise ScriptError(f"{helper}() 需要任务数据中有 complaint_id / {helper}() needs a complaint_id in the "
                              "task data")
        self._notices += 1
        return complaint_id, f"instance:{self.instance.id}:v{self.instance.version + 1}:{template}:{self._notices}"

    def file_case(self, data: Mapping[str, Any]) -> str:
        agency = self._case_agency(data)
        case = create_case(
            self.ctx.session,
            agency=agency,
            now=self.ctx.now,
            complaint_id=_complaint_id(data, self.instance),
            process_instance_id=self.instance.id,
        )
        return case.case_no

    def close_case(self, data: Mapping[str, Any], decision: str) -> None:
        result = self.ctx.session.execute(
            update(Case)
            .where(Case.process_instance_id == self.instance.id)
            .values(status=CaseStatus.DECIDED.value, decision=str(decision), decided_at=self.ctx.now)
        )
        if rows_affected(result) == 0:
            raise ScriptError("close_case()：本流程实例尚未立案 / close_case(): this instance has filed no case")

    def _case_agency(self, data: Mapping[str, Any]) -> Agency:
        for key in CASE_AGENCY_KEYS:
            code = data.get(key)
            if isinstance(code, str):
                agency = get_agency_by_code(self.ctx.session, code)
                if agency is not None:
                    return agency
        raise ScriptError(f"file_case()：{CASE_AGENCY_KEYS} 均未指明已知的单位 / file_case(): none of "
                          f"{CASE_AGENCY_KEYS} names a known agency")


class ProductHooks:
    """The product's implementation of the engine's ``TransitionHooks``: script services, the agency
    kind that picks an escalation ladder, and what follows a transition (complaints, cases, notices).
    ``outbox`` is the deployment's outbox settings, passed to every notice a script queues; ``blobs`` the
    file store the documents those notices carry are kept in."""

    def __init__(self, clock: Clock, deadlines: DeadlineService, outbox: OutboxConfig, blobs: BlobStore) -> None:
        self.clock = clock
        self.deadlines = deadlines
        self.outbox = outbox
        self.blobs = blobs

    def script_services(self, ctx: TransitionContext, instance: InstanceRecord) -> ProductScriptServices:
        return ProductScriptServices(ctx, instance, self.clock, self.deadlines, self.outbox, self.blobs)

    def agency_kind(self, session: Session, agency_code: str | None) -> str | None:
        agency = get_agency_by_code(session, agency_code) if agency_code else None
        return agency.kind if agency is not None else None

    def after_transition(
        self, ctx: TransitionContext, instance: InstanceRecord, workflow: BpmnWorkflow, opened: list[OpenedTask]
    ) -> None:
        """Involve every agency that got a task, and keep the complaint's status in step.

        The agency whose task was just completed is involved already: it was when that task opened."""
        session = ctx.session
        agencies = {t.agency_code: self._agency_for(session, t, t.agency_code, ctx.submitted)
                    for t in opened if t.agency_code and business_id_of(t.agency_code) is None}
        if instance.complaint_id is None:
            return
        arrived = {code: agency for code, agency in agencies.items() if code != ctx.task_agency}
        for agency in arrived.values():
            _involve_as_handler(session, instance.complaint_id, agency.id)
        complaint = get_complaint(session, instance.complaint_id)
        if complaint is None or complaint.process_instance_id not in (None, instance.id):
            return  # a case process linked to the complaint: the complaint's own workflow decides
        _follow_to_regulator(session, complaint, opened, arrived)
        status = _complaint_status(workflow, complaint.status)
        if status != complaint.status:
            complaint.status = status
            complaint.updated_at = ctx.now


    @staticmethod
    def _agency_for(session: Session, task: OpenedTask, code: str, submitted: dict[str, Any]) -> Agency:
        """A task must go to an active agency of its pool's kind (a pool named after a kind).

        Routing data comes from forms (``transfer_to``, ``mediator_agency``): a wrong code is the
        user's input error, refused with the whole transition, not a task nobody can see."""
        field = next((f"data.{key}" for key, value in submitted.items() if value == code), "data")
        agency = get_agency_by_code(session, code)
        if agency is None or not agency.active:
            raise InvalidInput([FieldError(field, f"未知的单位代码 / unknown agency code {code!r}")])
        kinds = {k.value for k in AgencyKind}
        if task.process_id in kinds and agency.kind != task.process_id:
            raise InvalidInput([FieldError(field, f"{code} 不是{_KIND_NAMES[task.process_id]} / {code} is "
                                                  f"not a {task.process_id}")])
        return agency


def _follow_to_regulator(session: Session, complaint: Complaint, opened: list[OpenedTask],
                         arrived: dict[str, Agency]) -> None:
    """Keep the complaint's competent regulator and its agencies' roles current as it moves on;
    what each agency's staff see of the complainant depends on them (``agencies.masking``).

    A task of the pool named after the regulator kind is the competent regulator's. When such a
    task arrives at another regulator than the recorded one, the complaint was transferred: the new
    one is competent, the former one passed it on. When the complaint reaches its regulator and the
    receiving agency keeps no task of it, the receiving agency passed it on (a consumer association
    referring a complaint, a regulator registering one for another region). Only a task arriving
    from another agency can change either, so work within one agency costs no statement here."""
    regulator = next((arrived[task.agency_code] for task in opened
                      if task.process_id == AgencyKind.MARKET_REGULATOR.value and task.agency_code in arrived),
                     None)
    if regulator is None:
        return
    if regulator.id != complaint.competent_agency_id:
        if complaint.competent_agency_id is not None:
            _set_role(session, complaint.id, complaint.competent_agency_id, Involvement.TRANSFERRED_FROM)
        complaint.competent_agency_id = regulator.id
        _set_role(session, complaint.id, regulator.id, Involvement.COMPETENT)
    if complaint.received_by_id != regulator.id:
        receiving = session.get(Agency, complaint.received_by_id)
        if receiving is not None and session.scalar(select(OpenTask.id).where(
                OpenTask.complaint_id == complaint.id, OpenTask.agency_code == receiving.code).limit(1)) is None:
            _set_role(session, complaint.id, receiving.id, Involvement.TRANSFERRED_FROM, only_if=Involvement.RECEIVING)


def _involve_as_handler(session: Session, complaint_id: int, agency_id: int) -> None:
    """Involve an agency that got a task (one statement): a new one as ``handler``; one that had
    passed the complaint on works it again, so it is a ``handler`` again; any other keeps its role."""
    statement = dialect_insert(session, ComplaintAgency).values(
        complaint_id=complaint_id, agency_id=agency_id, role=Involvement.HANDLER.value)
    session.execute(statement.on_conflict_do_update(
        index_elements=["complaint_id", "agency_id"], set_={"role": Involvement.HANDLER.value},
        where=ComplaintAgency.role == Involvement.TRANSFERRED_FROM.value))


def _set_role(session: Session, complaint_id: int, agency_id: int, role: Involvement,
              only_if: Involvement | None = None) -> None:
    """Change an involved agency's role (while it still has ``only_if``, when given)."""
    statement = update(ComplaintAgency).where(ComplaintAgency.complaint_id == complaint_id,
                                              ComplaintAgency.agency_id == agency_id)
    if only_if is not None:
        statement = statement.where(ComplaintAgency.role == only_if.value)
    session.execute(statement.values(role=role.value))


_KIND_NAMES = {"market_regulator": "市场监管部门", "consumer_association": "消费者协会",
               "mediation_committee": "人民调解委员会"}


FINAL_STATUSES = frozenset({ComplaintStatus.SETTLED.value, ComplaintStatus.REJECTED.value})
"""Outcomes that end a complaint and say more than ``closed``: settled by the parties, not accepted."""


def _complaint_status(workflow: BpmnWorkflow, current: str) -> str:
    """The status the workflow set last: ``complaint_status`` in the data of the most recently completed
    task of any pool (each pool of a collaboration keeps its own data, so the top workflow's last task
    knows nothing of it). Once every pool has ended, ``closed`` — unless the last status is a final
    outcome (settled, rejected), which stays. A workflow that sets none leaves a registered complaint
    ``in_progress``."""
    known = {s.value for s in ComplaintStatus}
    pools = [workflow, *workflow.subprocesses.values()]
    last_tasks = sorted((pool.last_task for pool in pools if pool.last_task is not None),
                        key=lambda task: task.last_state_change, reverse=True)
    latest = next((status for task in last_tasks
                   if isinstance(status := task.data.get("complaint_status"), str) and status in known), None)
    if workflow.completed:
        return latest if latest in FINAL_STATUSES else ComplaintStatus.CLOSED.value
    if latest is not None:
        return latest
    return ComplaintStatus.IN_PROGRESS.value if current == ComplaintStatus.REGISTERED.value else current


def _complaint_id(data: Mapping[str, Any], instance: InstanceRecord) -> int | None:
    value = data.get("complaint_id", instance.complaint_id)
    return value if isinstance(value, int) else instance.complaint_id


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _plain(context: Mapping[str, Any]) -> dict[str, Any]:
    """Only JSON-friendly values go into a notice (task data may hold anything the BPMN put there)."""
    return {k: v for k, v in context.items() if isinstance(v, str | int | float | bool | type(None) | list | dict)}
