"""Reads behind the workflow administration pages: the versions of each workflow with their running
instances, the difference between two versions in words, the running instances of a version, and one
instance as an administrator sees it.

An administrator belongs to no agency and is not a party to any complaint: whatever of the complainant's
personal data reaches these reads (the complaint row, or a value typed into the workflow's data) is
masked as lists and exports mask it. Nothing here writes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agencies import labels
from agencies.masking import mask_email, mask_id_number, mask_name, mask_phone, scrub
from agencies.tables import Complaint
from engine.bpmn.diff import diff_versions, elements
from engine.bpmn.loader import NS
from engine.bpmn.xml_safety import parse_bpmn_xml
from engine.clock import SHANGHAI
from engine.db.tables import OpenTask, ProcessInstance, SpecDeployment, SpecVersion
from engine.diagram_state import diagram_state, running_timers
from engine.errors import InvalidWorkflow, NotFound
from engine.serialization import load_state
from engine.specs import SpecCache
from web.queries import agency_names, display_names, timer_out

ELEMENT_TYPES = {
    "task": "任务", "userTask": "人工任务", "manualTask": "手工任务", "scriptTask": "脚本任务",
    "serviceTask": "服务任务", "sendTask": "发送任务", "receiveTask": "接收任务", "businessRuleTask": "规则任务",
    "callActivity": "调用活动", "subProcess": "子流程", "startEvent": "开始事件", "endEvent": "结束事件",
    "intermediateCatchEvent": "中间捕获事件", "intermediateThrowEvent": "中间抛出事件", "boundaryEvent": "边界事件",
    "exclusiveGateway": "排他网关", "parallelGateway": "并行网关", "inclusiveGateway": "包容网关",
    "eventBasedGateway": "事件网关", "sequenceFlow": "顺序流",
}
INSTANCE_STATUS = {"running": "运行中", "completed": "已结束", "cancelled": "已取消", "error": "出错"}
# the product's properties of an element, by the name they carry in the BPMN file
PROPERTY_LABELS = {"deadline": "期限规则", "deadline_from": "期限起算", "lane_role": "办理角色", "role": "办理角色"}
FIELD_LABELS = {"name": "名称", "type": "类型", "process": "所属流程", "lane": "泳道", "condition": "条件",
                "script": "脚本", "timer": "定时", "message": "消息", "source": "连线起点", "target": "连线终点",
                "attached_to": "附着于"}
# the order changes are told in: what people recognise an element by first
_ORDER = {key: rank for rank, key in enumerate(
    ("name", "type", "lane", "form", "property:deadline", "property:deadline_from", "condition", "timer", "message"))}
# keys of workflow data that hold the complainant's personal data, whatever a workflow names them
_PERSONAL_KEYS: dict[str, Callable[[str], str]] = {
    "complainant_name": mask_name, "name": mask_name, "complainant_phone": mask_phone, "phone": mask_phone,
    "complainant_id_number": mask_id_number, "id_number": mask_id_number,
    "complainant_email": mask_email, "email": mask_email}


def when(value: datetime) -> str:
    """``2026年11月18日 09:30`` in China's time."""
    local = value.astimezone(SHANGHAI)
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


# ---- the versions ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class VersionRow:
    key: str
    version: int
    uploaded_by: str  # the uploader's display name (or the account name, e.g. ``cli``)
    uploaded_at: datetime
    comment: str
    based_on: int | None
    deployed: bool
    running: int  # running instances on this version


@dataclass(frozen=True)
class Workflow:
    key: str
    name: str  # the top process's name in the diagram
    versions: list[VersionRow] = field(default_factory=list)  # newest first

    @property
    def deployed(self) -> int | None:
        return next((v.version for v in self.versions if v.deployed), None)


def workflows(session: Session) -> list[Workflow]:
    """Every workflow key with its versions, newest first, and the running instances on each version."""
    deployed = set(session.scalars(select(SpecDeployment.spec_version_id)))
    running: dict[int, int] = dict(session.execute(
        select(ProcessInstance.spec_version_id, func.count()).where(ProcessInstance.status == "running")
        .group_by(ProcessInstance.spec_version_id)).all())
    rows = session.execute(select(SpecVersion.id, SpecVersion.key, SpecVersion.version, SpecVersion.uploaded_by,
                                  SpecVersion.uploaded_at, SpecVersion.meta, SpecVersion.top_spec)
                           .order_by(SpecVersion.key, SpecVersion.version.desc())).all()
    names = display_names(session, {r.uploaded_by for r in rows if r.uploaded_by})
    result: dict[str, Workflow] = {}
    for row in rows:
        meta: Mapping[str, Any] = row.meta or {}
        if row.key not in result:  # named as its newest version names it
            xml = session.scalar(select(SpecVersion.bpmn_xml).where(SpecVersion.id == row.id)) or ""
            process_names: Mapping[str, str] = meta.get("process_names") or {}
            result[row.key] = Workflow(row.key, _title(xml, row.key) or process_names.get(row.top_spec) or row.key)
        based_on = meta.get("based_on")
        result[row.key].versions.append(VersionRow(
            key=row.key, version=row.version, uploaded_by=names.get(row.uploaded_by or "", row.uploaded_by or "—"),
            uploaded_at=row.uploaded_at, comment=str(meta.get("comment") or ""),
            based_on=based_on if isinstance(based_on, int) else None, deployed=row.id in deployed,
            running=int(running.get(row.id, 0))))
    return list(result.values())


def _title(xml: str, key: str) -> str | None:
    """The name the file gives its collaboration or process ``key`` (投诉处理)."""
    try:
        root = parse_bpmn_xml(xml)
    except InvalidWorkflow:  # stored versions were validated; a name is not worth a failed page
        return None
    found = root.xpath("//bpmn:collaboration[@id=$key]/@name | //bpmn:process[@id=$key]/@name", namespaces=NS,
                       key=key)
    return str(found[0]) if found else None


def version_numbers(session: Session, key: str) -> list[int]:
    return list(session.scalars(select(SpecVersion.version).where(SpecVersion.key == key)
                                .order_by(SpecVersion.version)))


def version_row(session: Session, key: str, version: int) -> SpecVersion | None:
    return session.scalar(select(SpecVersion).where(SpecVersion.key == key, SpecVersion.version == version))


# ---- the difference between two versions ----------------------------------------------------------


@dataclass(frozen=True)
class Change:
    element_id: str
    name: str
    type: str  # in Chinese
    change: str  # 新增 / 删除 / 修改
    details: list[str]  # 修改内容, one line each


@dataclass(frozen=True)
class VersionDiff:
    changes: list[Change]
    added: list[str]  # element ids, to mark on the newer diagram
    changed: list[str]
    removed: list[str]  # element ids, to mark on the older diagram


def _field_title(form: Mapping[str, Any] | None, name: str) -> str:
    spec = ((form or {}).get("properties") or {}).get(name) or {}
    title = spec.get("title") if isinstance(spec, Mapping) else None
    return f"{title}（{name}）" if title else name


def _shown(value: Any) -> str:
    if value is None or value == "":
        return "（无）"
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _form_lines(change: Mapping[str, Any], before: Mapping[str, Any] | None,
                after: Mapping[str, Any] | None) -> list[str]:
    lines = []
    for key, word, form in (("fields_added", "新增", after), ("fields_removed", "删除", before),
                            ("fields_changed", "修改", after), ("now_required", "改为必填", after),
                            ("no_longer_required", "改为选填", after)):
        if change.get(key):
            lines.append(f"表单字段 {word} " + "、".join(_field_title(form, name) for name in change[key]))
    if change.get("schema_changed"):
        lines.append("表单的其他设置已修改")
    return lines


def _rule(value: Any) -> str:
    if not value:
        return "（无）"
    name = labels.deadline_label(str(value))
    return f"{name}（{value}）" if name != "期限" else str(value)


def _detail_lines(changes: Mapping[str, Any], before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    lines: list[str] = []
    for key, change in sorted(changes.items(), key=lambda item: _ORDER.get(item[0], len(_ORDER))):
        if key == "form":
            lines.extend(_form_lines(change, before.get("form"), after.get("form")))
        elif key == "script":
            lines.append("脚本已修改")
        elif key == "property:deadline":
            lines.append(f"期限规则 {_rule(change['before'])} → {_rule(change['after'])}")
        elif key == "type":
            lines.append(f"类型 {ELEMENT_TYPES.get(change['before'], change['before'])} → "
                         f"{ELEMENT_TYPES.get(change['after'], change['after'])}")
        else:
            prop = key.removeprefix("property:")
            label = FIELD_LABELS.get(key) or PROPERTY_LABELS.get(prop) or f"属性 {prop}"
            lines.append(f"{label} {_shown(change['before'])} → {_shown(change['after'])}")
    return lines


def version_diff(old_xml: str, new_xml: str) -> VersionDiff:
    """``engine.bpmn.diff.diff_versions`` (what the API answers) in words: one row per element added,
    removed or changed, naming each change (名称 受理审查 → 受理与审查, 表单字段 新增 备注（note）)."""
    found = diff_versions(old_xml, new_xml)
    old, new = elements(old_xml), elements(new_xml)
    rows: list[Change] = []
    for item in found["added"]:
        rows.append(Change(item["id"], item.get("name") or "", ELEMENT_TYPES.get(item["type"], item["type"]),
                           "新增", []))
    for item in found["removed"]:
        rows.append(Change(item["id"], item.get("name") or "", ELEMENT_TYPES.get(item["type"], item["type"]),
                           "删除", []))
    for item in found["changed"]:
        element_id = item["id"]
        kind = new[element_id]["type"]
        rows.append(Change(element_id, item.get("name") or "", ELEMENT_TYPES.get(kind, kind), "修改",
                           _detail_lines(item["changes"], old[element_id], new[element_id])))
    rows.sort(key=lambda c: (c.type == "顺序流", c.element_id))  # steps first, then the flows
    return VersionDiff(rows, [i["id"] for i in found["added"]], [i["id"] for i in found["changed"]],
                       [i["id"] for i in found["removed"]])


# ---- running instances ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RunningInstance:
    id: int
    tracking_no: str
    tasks: list[str]  # the titles of its open tasks


def running_instances(session: Session, key: str, version: int) -> list[RunningInstance]:
    """The running instances of one version, oldest first, with their complaint and open tasks."""
    rows = session.execute(
        select(ProcessInstance.id, Complaint.tracking_no)
        .join(SpecVersion, SpecVersion.id == ProcessInstance.spec_version_id)
        .outerjoin(Complaint, Complaint.id == ProcessInstance.complaint_id)
        .where(SpecVersion.key == key, SpecVersion.version == version, ProcessInstance.status == "running")
        .order_by(ProcessInstance.id)).all()
    tasks: dict[int, list[str]] = {}
    if rows:
        for instance_id, title in session.execute(
                select(OpenTask.instance_id, OpenTask.title).where(OpenTask.instance_id.in_([r.id for r in rows]))
                .order_by(OpenTask.created_at, OpenTask.id)):
            tasks.setdefault(instance_id, []).append(title)
    return [RunningInstance(r.id, r.tracking_no or "", tasks.get(r.id, [])) for r in rows]


def step_names(xml: str) -> dict[str, str]:
    """The names of a version's elements by id (a migration's reasons name steps by id)."""
    return {element_id: found["name"] for element_id, found in elements(xml).items() if found.get("name")}


def named_steps(reason: str, names: Mapping[str, str]) -> str:
    """``步骤 review 已修改…`` → ``步骤「受理审查」（review）已修改…``."""
    return re.sub(r"步骤 ([A-Za-z0-9_.\-]+) ",
                  lambda m: f"步骤「{names[m.group(1)]}」（{m.group(1)}）" if m.group(1) in names else m.group(0),
                  reason)


# ---- one instance ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class InstanceView:
    id: int
    key: str
    version: int
    status: str
    complaint_id: int | None
    tracking_no: str
    complainant: str  # masked
    started: str
    tasks: list[dict[str, Any]]
    timers: list[dict[str, str]]
    data: list[tuple[str, str]]  # the workflow data, personal data masked


def instance_view(session: Session, specs: SpecCache, instance_id: int) -> InstanceView:
    """One instance for an administrator; ``NotFound`` when there is none."""
    row = session.execute(
        select(ProcessInstance, SpecVersion.key, SpecVersion.version)
        .join(SpecVersion, SpecVersion.id == ProcessInstance.spec_version_id)
        .where(ProcessInstance.id == instance_id)).one_or_none()
    if row is None:
        raise NotFound("process instance not found")
    instance: ProcessInstance = row[0]
    complaint = session.get(Complaint, instance.complaint_id) if instance.complaint_id is not None else None
    open_tasks = list(session.scalars(select(OpenTask).where(OpenTask.instance_id == instance_id)
                                      .order_by(OpenTask.created_at, OpenTask.id)))
    agencies = agency_names(session).by_code
    people = display_names(session, {t.assignee for t in open_tasks if t.assignee})
    tasks = [{"title": t.title, "agency": agencies.get(t.agency_code or "", t.agency_code or ""),
              "assignee": people.get(t.assignee, t.assignee) if t.assignee else "",
              "due": when(t.due_at) if t.due_at else "—", "suspended": t.suspended_at is not None}
             for t in open_tasks]
    timers = [{"label": out["label"], "due": when(out["due_at"]), "element_id": out["element_id"]}
              for out in (timer_out(t) for t in running_timers(session, specs, instance_id))]
    bundle = specs.get(session, instance.spec_version_id)
    workflow = load_state(instance.state, bundle.resumable_top_spec, bundle.subprocess_specs)
    data = _masked_data(_current_data(workflow), complaint)
    return InstanceView(
        id=instance.id, key=row.key, version=row.version, status=INSTANCE_STATUS.get(instance.status, instance.status),
        complaint_id=instance.complaint_id, tracking_no=complaint.tracking_no if complaint else "",
        complainant=mask_name(complaint.complainant_name) if complaint else "", started=when(instance.created_at),
        tasks=tasks, timers=timers, data=data)


def _current_data(workflow: Any) -> dict[str, Any]:
    """What the instance knows now: the data of its open tasks (or, when none is open, of the task that
    ran last), with the workflow's own data under it."""
    open_state = TaskState.READY | TaskState.STARTED | TaskState.WAITING
    flows = (workflow, *workflow.subprocesses.values())
    tasks = [task for flow in flows for task in flow.tasks.values()]
    chosen = [task for task in tasks if task.state & open_state and task.task_spec.bpmn_id is not None]
    if not chosen:
        done = [task for task in tasks if task.state == TaskState.COMPLETED]
        chosen = sorted(done, key=lambda task: task.last_state_change)[-1:]
    merged: dict[str, Any] = dict(workflow.data)
    for task in chosen:
        merged.update(task.data)
    return merged


def _masked_data(data: Mapping[str, Any], complaint: Complaint | None) -> list[tuple[str, str]]:
    """(key, value) rows, sorted by key: values under a personal-data key masked, and the complainant's
    name, phone, ID number and e-mail masked wherever else they were typed."""
    replacements: dict[str, str] = {}
    if complaint is not None:
        for value, masker in ((complaint.complainant_phone, mask_phone), (complaint.complainant_id_number,
                              mask_id_number), (complaint.complainant_email, mask_email),
                              (complaint.complainant_name, mask_name)):
            if value and len(value) > 1:
                replacements[value] = masker(value)
    rows = []
    for key in sorted(data):
        value = data[key]
        personal = _PERSONAL_KEYS.get(key)
        if personal is not None and isinstance(value, str) and value:
            shown = personal(value)
        else:
            scrubbed = scrub(value, replacements)
            shown = scrubbed if isinstance(scrubbed, str) else json.dumps(scrubbed, ensure_ascii=False, default=str)
        rows.append((key, shown))
    return rows


def instance_diagram(session: Session, specs: SpecCache, instance_id: int) -> dict[str, Any]:
    """An instance on its diagram, in the shape of ``web.queries.complaint_diagram`` (what ``diagram.js``
    draws)."""
    state = diagram_state(session, specs, instance_id)
    return {"instance_id": state.instance_id, "spec_key": state.spec_key, "spec_version": state.spec_version,
            "bpmn_xml": state.bpmn_xml, "completed": list(state.completed), "current": list(state.current),
            "suspended": list(state.suspended), "timers": [timer_out(t) for t in state.timers]}
