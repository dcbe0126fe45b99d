"""The closed vocabularies of the agencies domain: agency kinds, roles, complaint kinds, categories,
statuses and involvements.

They are ``StrEnum`` so that values compare equal to the plain strings stored in the database and
sent over the API, and the table CHECK constraints are generated from the same lists.
"""

from __future__ import annotations

from enum import StrEnum


class AgencyKind(StrEnum):
    """``agency.kind``: 消费者协会, 市场监督管理部门, 人民调解委员会."""

    CONSUMER_ASSOCIATION = "consumer_association"
    MARKET_REGULATOR = "market_regulator"
    MEDIATION_COMMITTEE = "mediation_committee"


class Role(StrEnum):
    """A user's roles; a BPMN lane names the role whose holders work its tasks."""

    LIAISON = "liaison"  # 联络员
    SUPERVISOR = "supervisor"  # 负责人
    ENFORCEMENT = "enforcement"  # 执法 (regulators' case work)
    ADMIN = "admin"  # 管理员
    BUSINESS = "business"  # 经营者 (a business's own user: its complaints only)


class ComplaintKind(StrEnum):
    """``complaint.kind``: 投诉 (own dispute), 举报 (violation clue), 咨询."""

    COMPLAINT = "complaint"
    REPORT = "report"
    CONSULTATION = "consultation"


class Category(StrEnum):
    """``complaint.category``: the closed list of complaint subjects the API accepts."""

    AFTER_SALES = "after_sales"
    CONTRACT = "contract"
    QUALITY = "quality"
    FALSE_ADVERTISING = "false_advertising"
    PRICE = "price"
    SAFETY = "safety"
    COUNTERFEIT = "counterfeit"
    PERSONAL_DIGNITY = "personal_dignity"
    MEASUREMENT = "measurement"
    OTHER = "other"


CATEGORY_LABELS: dict[Category, str] = {
    Category.AFTER_SALES: "售后服务",
    Category.CONTRACT: "合同",
    Category.QUALITY: "质量",
    Category.FALSE_ADVERTISING: "虚假宣传",
    Category.PRICE: "价格",
    Category.SAFETY: "安全",
    Category.COUNTERFEIT: "假冒",
    Category.PERSONAL_DIGNITY: "人格尊严",
    Category.MEASUREMENT: "计量",
    Category.OTHER: "其他",
}


class ComplaintStatus(StrEnum):
    """Known ``complaint.status`` values. Not a CHECK constraint: the workflows own the lifecycle
    and may add states; this list only names the ones code refers to."""

    REGISTERED = "registered"  # 已登记
    IN_PROGRESS = "in_progress"  # 办理中 (a workflow runs, no more specific state set)
    UNDER_REVIEW = "under_review"  # 受理审查中
    ACCEPTED = "accepted"  # 已受理
    REJECTED = "rejected"  # 不予受理
    TRANSFERRED = "transferred"  # 已转送
    IN_MEDIATION = "in_mediation"  # 调解中
    MEDIATION_ENDED = "mediation_ended"  # 调解结束
    CLOSED = "closed"  # 已办结
    # the lifecycle the reference workflows set (``complaint_status`` in their scripts)
    NEGOTIATING = "negotiating"  # 协商和解中 (ODR with an enrolled business)
    PENDING_ACCEPTANCE = "pending_acceptance"  # 待受理
    MEDIATING = "mediating"  # 调解中
    SETTLED = "settled"  # 已和解
    AGREEMENT = "agreement"  # 调解成功
    TERMINATED = "terminated"  # 终止调解
    NOT_MEDIATED = "not_mediated"  # 未调解 (a party did not consent to mediation)


class Involvement(StrEnum):
    """Why an agency is involved in a complaint (``complaint_agencies.role``); involvement is what
    makes a complaint visible to the agency's staff: a user sees only the complaints, tasks and
    cases their own agency is involved in."""

    RECEIVING = "receiving"  # 接收登记
    COMPETENT = "competent"  # 有管辖权
    MEDIATOR = "mediator"  # 受委托调解
    TRANSFERRED_FROM = "transferred_from"  # 转出
    ENFORCEMENT = "enforcement"  # 诉转案
    HANDLER = "handler"  # got a workflow task (any other reason)


class CaseStatus(StrEnum):
    """``case.status`` values the code refers to (立案 → 作出决定)."""

    FILED = "filed"
    DECIDED = "decided"


def sql_in(values: type[StrEnum]) -> str:
    """``'a', 'b'`` for a CHECK constraint built from an enum."""
    return ", ".join(f"'{member.value}'" for member in values)
