"""What the BPMN editor page reads and writes: a stored version, its neighbours, the deadline rules a
user task may name, checking a diagram and saving it as a new version.

Checking uses the same validator as an upload (``engine.bpmn.validation.validate_bpmn`` with the rules
in force and the messages deployed workflows start on), so a diagram the editor calls valid is one the
upload accepts. Saving goes through ``complaintflow.services.workflows.upload_workflow``: a new version
every time the content differs, never an overwrite.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from agencies.regions import region_name
from complaintflow.services import workflows
from complaintflow.wiring import Product
from engine.bpmn.validation import validate_bpmn
from engine.db.tables import SpecDeployment, SpecVersion
from engine.deadlines.config import load_policy
from engine.deadlines.rules import base_rule
from engine.errors import InvalidWorkflow, WorkflowIssue
from engine.runner import Actor
from web.form_fields import chinese_part

ROLE_CHOICES = (("liaison", "联络员"), ("supervisor", "负责人"), ("enforcement", "执法人员"), ("business", "经营者"))
# the shipped rules in words; a rule an admin added later shows its own name
RULE_TITLES = {
    "acceptance": "受理期限", "jurisdiction_dispute": "管辖争议期限", "mediation": "调解期限",
    "termination_notice": "终止调解告知期限", "clue_verification": "线索核查期限", "reporter_notice": "举报人告知期限",
    "case_decision": "案件办理期限", "judicial_confirmation": "司法确认期限", "association_acceptance": "消协受理期限",
    "odr_negotiation": "在线纠纷协商期限",
}
MAX_COMMENT = 500


@dataclass(frozen=True)
class VersionInfo:
    key: str
    version: int
    filename: str
    xml: str
    deployed: bool  # the version new instances of the key use
    comment: str | None
    based_on: int | None
    others: list[int] = field(default_factory=list)  # the key's other version numbers, newest first


@dataclass(frozen=True)
class Problem:
    """One error of a diagram as the page lists it (the Chinese part of the validator's message)."""

    element_id: str | None
    element_name: str | None
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"element_id": self.element_id, "element_name": self.element_name, "message": self.message}


@dataclass(frozen=True)
class Saved:
    version: int
    created: bool  # False: the content equals that stored version


def read_version(session: Session, key: str, version: int) -> VersionInfo | None:
    """The stored version ``key`` vN (what GET /api/v1/workflows/{key}/versions/{n}/bpmn answers), or None."""
    rows = list(session.scalars(select(SpecVersion).where(SpecVersion.key == key)))
    row = next((r for r in rows if r.version == version), None)
    if row is None:
        return None
    deployed_id = session.scalar(select(SpecDeployment.spec_version_id).where(SpecDeployment.key == key))
    meta = row.meta or {}
    comment = meta.get("comment")
    based_on = meta.get("based_on")
    return VersionInfo(key=row.key, version=row.version, filename=row.filename, xml=row.bpmn_xml,
                       deployed=row.id == deployed_id, comment=comment if isinstance(comment, str) else None,
                       based_on=based_on if isinstance(based_on, int) else None,
                       others=sorted((r.version for r in rows if r.version != version), reverse=True))


def rule_choices(session: Session) -> list[dict[str, str]]:
    """The deadline rules a user task may name, each with its period in words (the newest version's).
    A province's own version of a rule (``association_acceptance_33``) reads as that rule, with the
    province: a task names the plain rule and the province's version applies by itself to the agencies
    there, so the list says which rule it stands for."""
    policy = load_policy(session)
    choices = []
    for name in policy.names():
        versions = policy.versions(name)
        period = _period_words(str(versions[-1].period)) if versions else ""
        base = base_rule(name)
        title = RULE_TITLES.get(base, base)
        notes = [_province(name[-2:])] if base != name else []
        notes += [period] if period else []
        choices.append({"name": name, "label": f"{title}（{'，'.join(notes)}）" if notes else title})
    return choices


def _province(prefix: str) -> str:
    """A province by its two-digit region prefix (``33`` → 浙江省适用); the prefix if unknown."""
    return f"{region_name(prefix + '0000') or prefix}适用"


def _period_words(period: str) -> str:
    """``7wd`` → 7 个工作日, ``60cd`` → 60 日."""
    if period.endswith("wd"):
        return f"{period[:-2]} 个工作日"
    if period.endswith("cd"):
        return f"{period[:-2]} 日"
    return period


def _catchers(session: Session) -> set[str]:
    rows = session.scalars(select(SpecVersion.start_messages).join(
        SpecDeployment, SpecDeployment.spec_version_id == SpecVersion.id))
    return {message for messages in rows for message in (messages or [])}


def check(session: Session, product: Product, xml: bytes, key: str) -> list[Problem]:
    """Every error an upload of ``xml`` would meet, plus a changed key (the editor saves versions of
    the key it opened: a diagram renamed to another id would start another workflow)."""
    known_rules: Collection[str] = product.deadlines.rule_names()
    try:
        bundle = validate_bpmn(xml, f"{key}.bpmn", known_rules, external_catchers=_catchers(session))
    except InvalidWorkflow as exc:
        return problems_of(exc)
    except ValueError as exc:  # not XML at all, or an unsafe one (the parser's own refusal)
        return [Problem(None, None, chinese_part(str(exc)) or "文件不是有效的 BPMN XML")]
    if bundle.key != key:
        return [Problem(bundle.key, None, f"流程标识已改为 {bundle.key}，须保持为 {key} 才能保存为本流程的新版本")]
    return []


def problems_of(error: InvalidWorkflow) -> list[Problem]:
    return [_problem(issue) for issue in error.issues]


def _problem(issue: WorkflowIssue) -> Problem:
    return Problem(issue.element_id, issue.element_name, chinese_part(issue.message))


def save(product: Product, xml: bytes, key: str, based_on: int, actor: Actor, comment: str) -> Saved:
    """Store the diagram as the next version of ``key`` (same content → the version it equals)."""
    result = workflows.upload_workflow(product, xml, f"{key}.bpmn", actor, comment=comment, based_on=based_on)
    return Saved(result.version.version, result.created)
