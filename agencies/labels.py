"""The Chinese words people read for the product's codes: complaint statuses, kinds and categories,
case statuses and decisions, agency kinds, involvements, and the deadlines a task or timer counts by.

One place for every page, export and notice that shows a code, so that the same status reads the same
everywhere. A code without a word here (a state a newer workflow introduced) is shown by a neutral
word, never as the raw English code.
"""

from __future__ import annotations

from collections.abc import Mapping

from agencies.vocab import CATEGORY_LABELS, AgencyKind, CaseStatus, ComplaintKind, ComplaintStatus, Involvement
from engine.deadlines.rules import base_rule

UNKNOWN_STATUS = "办理中"  # a status the workflows set that has no word yet: it is still being handled
UNKNOWN = "其他"

# complaint.status: the values the code and the reference workflows set, and the lifecycle's full list
# (ODR, mediation outcomes); the order is the lifecycle's, for a status filter
STATUS_LABELS: Mapping[str, str] = {
    ComplaintStatus.REGISTERED.value: "已登记",
    ComplaintStatus.NEGOTIATING.value: "协商和解中",
    ComplaintStatus.PENDING_ACCEPTANCE.value: "待受理",
    ComplaintStatus.UNDER_REVIEW.value: "受理审查中",
    ComplaintStatus.IN_PROGRESS.value: "办理中",
    ComplaintStatus.ACCEPTED.value: "已受理",
    ComplaintStatus.TRANSFERRED.value: "已转送",
    ComplaintStatus.REJECTED.value: "不予受理",
    ComplaintStatus.MEDIATING.value: "调解中",
    ComplaintStatus.IN_MEDIATION.value: "调解中",
    ComplaintStatus.MEDIATION_ENDED.value: "调解结束",
    ComplaintStatus.SETTLED.value: "已和解",
    ComplaintStatus.AGREEMENT.value: "调解成功",
    ComplaintStatus.TERMINATED.value: "终止调解",
    ComplaintStatus.NOT_MEDIATED.value: "未调解",
    ComplaintStatus.CLOSED.value: "已办结",
}

# a tag's colour group per status (the word always goes with it): open work, ended well, ended otherwise
STATUS_TONES: Mapping[str, str] = {
    ComplaintStatus.SETTLED.value: "done", ComplaintStatus.AGREEMENT.value: "done",
    ComplaintStatus.CLOSED.value: "done",
    ComplaintStatus.REJECTED.value: "ended", ComplaintStatus.TERMINATED.value: "ended",
    ComplaintStatus.NOT_MEDIATED.value: "ended", ComplaintStatus.MEDIATION_ENDED.value: "ended",
}

CATEGORY_NAMES: Mapping[str, str] = {category.value: label for category, label in CATEGORY_LABELS.items()}

KIND_LABELS: Mapping[str, str] = {
    ComplaintKind.COMPLAINT.value: "投诉",
    ComplaintKind.REPORT.value: "举报",
    ComplaintKind.CONSULTATION.value: "咨询",
}

CASE_STATUS_LABELS: Mapping[str, str] = {
    CaseStatus.FILED.value: "已立案",
    CaseStatus.DECIDED.value: "已作出决定",
}

CASE_DECISION_LABELS: Mapping[str, str] = {
    "penalty": "给予行政处罚",
    "no_penalty": "不予行政处罚",
    "transfer": "移送其他机关",
}

AGENCY_KIND_LABELS: Mapping[str, str] = {
    AgencyKind.CONSUMER_ASSOCIATION.value: "消费者协会",
    AgencyKind.MARKET_REGULATOR.value: "市场监督管理部门",
    AgencyKind.MEDIATION_COMMITTEE.value: "人民调解委员会",
}

INVOLVEMENT_LABELS: Mapping[str, str] = {
    Involvement.RECEIVING.value: "接收登记",
    Involvement.COMPETENT.value: "承办",
    Involvement.MEDIATOR.value: "受委托调解",
    Involvement.TRANSFERRED_FROM.value: "已转出",
    Involvement.ENFORCEMENT.value: "诉转案",
    Involvement.HANDLER.value: "参与办理",
}

# the deadline rules of the deadline policy (engine/deadlines/rules.py), named as the period people know
DEADLINE_LABELS: Mapping[str, str] = {
    "acceptance": "受理期限",
    "association_acceptance": "受理期限",
    "jurisdiction_dispute": "管辖争议处理期限",
    "mediation": "调解期限",
    "termination_notice": "终止调解告知期限",
    "clue_verification": "线索核查期限",
    "reporter_notice": "告知举报人期限",
    "case_decision": "案件办理期限",
    "judicial_confirmation": "司法确认申请期限",
    "odr_negotiation": "在线协商期限",
}


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, UNKNOWN_STATUS)


def status_choices() -> list[tuple[str, str]]:
    """(status, label) for a status filter: one entry per word (the first status that has it)."""
    seen: dict[str, str] = {}
    for status, label in STATUS_LABELS.items():
        seen.setdefault(label, status)
    return [(status, label) for label, status in seen.items()]


def same_status(status: str) -> list[str]:
    """Every status that reads as ``status`` does (调解中 is ``mediating`` or ``in_mediation``), for a filter
    chosen by its word; just ``status`` when it has no word here."""
    label = STATUS_LABELS.get(status)
    return [code for code, word in STATUS_LABELS.items() if word == label] if label else [status]


def status_tone(status: str) -> str:
    """``open``, ``done`` or ``ended``: the colour group of a status tag (CSS ``status-<tone>``)."""
    return STATUS_TONES.get(status, "open")


def category_label(category: str) -> str:
    return CATEGORY_NAMES.get(category, UNKNOWN)


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, UNKNOWN)


def case_status_label(status: str) -> str:
    return CASE_STATUS_LABELS.get(status, UNKNOWN_STATUS)


def case_decision_label(decision: str | None) -> str:
    return CASE_DECISION_LABELS.get(decision, UNKNOWN) if decision else ""


def agency_kind_label(kind: str) -> str:
    return AGENCY_KIND_LABELS.get(kind, UNKNOWN)


def involvement_label(role: str) -> str:
    return INVOLVEMENT_LABELS.get(role, UNKNOWN)


def deadline_label(rule: str | None, fallback: str | None = None) -> str:
    """What a deadline or timer is called: its rule's name (``mediation`` → 调解期限; a province's own
    version is called as the rule it stands for: ``association_acceptance_33`` → 受理期限), else the name
    the diagram gives the event with a closing 届满 dropped (调解期限届满 → 调解期限), else 期限."""
    if rule and base_rule(rule) in DEADLINE_LABELS:
        return DEADLINE_LABELS[base_rule(rule)]
    if fallback:
        return fallback.removesuffix("届满") or fallback
    return "期限"
