"""What a complainant may learn about their complaint by number and code: the status in Chinese, the
agency handling it, what happens next and by when, and the milestones so far. Nothing personal.

Read by the public tracking page and ``GET /api/v1/public/complaints/{tracking_no}`` alike, so both
say the same. Everything comes from the complaint's own process (its task index and audit trail),
not from a case process it spawned: enforcement work on a violation clue is not the complainant's
to follow here, they are told of a filing by notice.

Only words the product or the workflow's author wrote reach the answer: the status vocabulary, the
agencies' names, task titles and the titles of closed choices made in a form (``受理``, ``达成协议``).
Free text staff typed (reasons, summaries), names, phone numbers, ID numbers and the business's
details never do.

The next step is keyed by the open task's deadline rule (``acceptance`` …; a province's own version
by the rule it stands for), never by a task id: the workflows are the administrators' to change, the
statutory rules are not.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from agencies.labels import kind_label, status_label
from agencies.tables import Agency, Complaint
from agencies.vocab import ComplaintStatus
from engine.bpmn.loader import SpecBundle
from engine.clock import SHANGHAI, chinese_date
from engine.db.tables import AuditEvent, OpenTask, ProcessInstance
from engine.deadlines.rules import base_rule
from engine.specs import SpecCache

# statuses that say only "something is going on": the open task's deadline rule says more
_GENERIC = frozenset({ComplaintStatus.REGISTERED, ComplaintStatus.IN_PROGRESS, ComplaintStatus.UNDER_REVIEW})


@dataclass(frozen=True)
class Step:
    """What a deadline rule means to the complainant: the status while it runs, and the sentence."""

    status: str | None  # refines a generic status; None keeps it
    sentence: str  # ``{due}``: the deadline's last day in words


STEPS: dict[str, Step] = {
    "acceptance": Step("pending_acceptance", "承办单位将于 {due} 前作出是否受理的决定，并告知您"),
    "association_acceptance": Step("pending_acceptance", "承办单位将于 {due} 前作出是否受理的决定，并告知您"),
    "odr_negotiation": Step("negotiating", "经营者将于 {due} 前与您协商和解；协商不成的，由市场监管部门依法处理"),
    "mediation": Step("mediating", "承办单位正在组织调解，调解期限至 {due}"),
    "termination_notice": Step(None, "承办单位将于 {due} 前办结，并将处理结果告知您"),
    "judicial_confirmation": Step(None, "调解协议已生效；双方可于 {due} 前共同向人民法院申请司法确认"),
}
PROVISIONAL_NOTE = "（该期限按尚未公布的节假日安排估算，可能调整）"
SUSPENDED_NOTE = "（因检测、鉴定等原因暂停计时，期限将相应顺延）"
CLOSED_STEP = "本件已办结"
ENDED_STEPS = {ComplaintStatus.CLOSED.value: CLOSED_STEP,
               ComplaintStatus.SETTLED.value: "您已接受经营者的和解方案，本件已办结",
               ComplaintStatus.REJECTED.value: "本件不予受理，已办结；不予受理的理由和您可以采取的途径已告知您"}
WAITING_STEP = "承办单位正在办理，有进展时将告知您"


@dataclass(frozen=True)
class Milestone:
    at: datetime
    label: str  # 投诉已登记 · 「受理审查」已完成：受理 · 「组织调解」办理中
    agency: str | None  # who, when an agency did it


@dataclass(frozen=True)
class PublicView:
    tracking_no: str
    kind: str
    kind_label: str
    status: str  # the stored status, or a more telling one derived from the open task (待受理)
    status_label: str
    agency: str | None  # the handling agency's name
    next_step: str  # a Chinese sentence: what happens next, and by when
    next_due_at: datetime | None
    received_at: datetime
    updated_at: datetime
    milestones: list[Milestone]


def public_view(session: Session, complaint: Complaint, specs: SpecCache) -> PublicView:
    """The complaint as its complainant may see it (the caller has checked number and code)."""
    tasks = _open_tasks(session, complaint)
    leading = tasks[0] if tasks else None
    step = _step(leading.deadline_rule) if leading is not None else None
    status = complaint.status
    if status in _GENERIC and step is not None and step.status is not None:
        status = step.status
    names = _agency_names(session, complaint, tasks)
    agency = _handling_agency(complaint, leading, names)
    next_step, due_at = _next_step(complaint, leading, step)
    return PublicView(
        tracking_no=complaint.tracking_no, kind=complaint.kind, kind_label=kind_label(complaint.kind),
        status=status, status_label=status_label(status), agency=agency, next_step=next_step, next_due_at=due_at,
        received_at=complaint.received_at, updated_at=complaint.updated_at,
        milestones=_milestones(session, complaint, tasks, names, specs))


def _step(rule: str | None) -> Step | None:
    """What the deadline rule means to the complainant; a province's own version of a rule
    (``association_acceptance_33``) means what the rule it stands for means."""
    return STEPS.get(base_rule(rule)) if rule else None


def _open_tasks(session: Session, complaint: Complaint) -> list[OpenTask]:
    """The open tasks of the complaint's own process, the one with a known deadline rule and the
    soonest deadline first."""
    if complaint.process_instance_id is None:
        return []
    rows = list(session.scalars(select(OpenTask).where(OpenTask.instance_id == complaint.process_instance_id)))
    far = datetime.max.replace(tzinfo=SHANGHAI)

    def order(task: OpenTask) -> tuple[bool, datetime, datetime, str]:
        return (_step(task.deadline_rule) is None, task.due_at or far, task.created_at, task.id)

    return sorted(rows, key=order)


def _agency_names(session: Session, complaint: Complaint, tasks: Sequence[OpenTask]) -> dict[str, str]:
    """Names by code of the agencies the answer may mention, and of the receiving and competent ones
    by id (keys ``#<id>``): one query."""
    ids = {complaint.received_by_id, complaint.competent_agency_id} - {None}
    codes = {task.agency_code for task in tasks if task.agency_code}
    if complaint.process_instance_id is not None:
        codes.update(code for code in session.scalars(select(AuditEvent.agency_code).where(
            AuditEvent.instance_id == complaint.process_instance_id, AuditEvent.action == "task.completed"))
            if code)
    rows = session.execute(select(Agency.id, Agency.code, Agency.name).where(
        Agency.id.in_(ids) | Agency.code.in_(codes))).all()
    return {**{row.code: row.name for row in rows}, **{f"#{row.id}": row.name for row in rows}}


def _handling_agency(complaint: Complaint, leading: OpenTask | None, names: Mapping[str, str]) -> str | None:
    """The agency working the complaint's next task; without one, the competent regulator, else the
    agency that received it."""
    if leading is not None and leading.agency_code is not None and leading.agency_code in names:
        return names[leading.agency_code]
    for agency_id in (complaint.competent_agency_id, complaint.received_by_id):
        if agency_id is not None and f"#{agency_id}" in names:
            return names[f"#{agency_id}"]
    return None


def _next_step(complaint: Complaint, leading: OpenTask | None, step: Step | None) -> tuple[str, datetime | None]:
    if leading is None:
        return (ENDED_STEPS.get(complaint.status, WAITING_STEP)), None
    due_at = leading.due_at
    if due_at is None:
        return f"承办单位正在办理「{leading.title}」，有进展时将告知您", None
    if step is not None:
        sentence = step.sentence.format(due=chinese_date(due_at))
    else:
        sentence = f"承办单位正在办理「{leading.title}」，将于 {chinese_date(due_at)} 前完成"
    if leading.suspended_at is not None:
        sentence += SUSPENDED_NOTE
    elif leading.provisional:
        sentence += PROVISIONAL_NOTE
    return sentence, due_at


def _milestones(session: Session, complaint: Complaint, tasks: Sequence[OpenTask], names: Mapping[str, str],
                specs: SpecCache) -> list[Milestone]:
    """Registered; each task of the complaint's process completed (with the closed choice made, if
    its form has one); each task now open; closed."""
    received = names.get(f"#{complaint.received_by_id}")
    found = [Milestone(complaint.received_at, f"{kind_label(complaint.kind)}已登记", received)]
    if complaint.process_instance_id is not None:
        bundle = _bundle(session, complaint.process_instance_id, specs)
        for event in session.scalars(select(AuditEvent).where(
                AuditEvent.instance_id == complaint.process_instance_id, AuditEvent.action == "task.completed")
                .order_by(AuditEvent.at, AuditEvent.id)):
            details = event.details if isinstance(event.details, Mapping) else {}
            title = str(details.get("title") or "办理环节")
            choice = _choice(bundle, str(details.get("task") or ""), details.get("data"))
            label = f"「{title}」已完成" + (f"：{choice}" if choice else "")
            found.append(Milestone(event.at, label, names.get(event.agency_code or "")))
    for task in sorted(tasks, key=lambda t: (t.created_at, t.id)):
        found.append(Milestone(task.created_at, f"「{task.title}」办理中", names.get(task.agency_code or "")))
    if complaint.status in ENDED_STEPS and not tasks:
        found.append(Milestone(complaint.updated_at, status_label(complaint.status), None))
    return sorted(found, key=lambda m: m.at)


def _bundle(session: Session, instance_id: int, specs: SpecCache) -> SpecBundle | None:
    version_id = session.scalar(select(ProcessInstance.spec_version_id).where(ProcessInstance.id == instance_id))
    return specs.get(session, version_id) if version_id is not None else None


def _choice(bundle: SpecBundle | None, task_name: str, data: Any) -> str | None:
    """The title of the option chosen in the task form's first closed-choice field (the decision or
    outcome, by the forms' convention): an author's word, never text a person typed."""
    if bundle is None or not isinstance(data, Mapping):
        return None
    definition = next((d for d in bundle.tasks.values() if d.name == task_name), None)
    properties = (definition.form or {}).get("properties") if definition is not None else None
    if not isinstance(properties, Mapping):
        return None
    for key, schema in properties.items():
        options = schema.get("oneOf") if isinstance(schema, Mapping) else None
        if not isinstance(options, list) or not options:
            continue
        chosen = data.get(key)
        return next((str(o["title"]) for o in options
                     if isinstance(o, Mapping) and o.get("const") == chosen and o.get("title")), None)
    return None
