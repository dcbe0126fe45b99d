"""A realistic context for every template: what ``check_templates`` renders an admin's override with.

Exactly the documented variables of each template (the tests hold the two together).
"""

from __future__ import annotations

from typing import Any

_COMPLAINANT = {"complainant_name": "张三", "tracking_no": "TS2026050600000018",
                "agency_name": "太和县市场监督管理局"}
_TASK = {"agency_name": "太和县市场监督管理局", "task_title": "受理审查", "due_date": "2026年5月13日"}

SAMPLE_CONTEXTS: dict[str, dict[str, Any]] = {
    "acceptance": _COMPLAINANT,
    "rejection": {**_COMPLAINANT, "reason": "不属于市场监督管理部门职责范围"},
    "transfer": {"complainant_name": "张三", "tracking_no": "TS2026050600000018",
                 "from_agency_name": "太和县市场监督管理局", "to_agency_name": "临泉县市场监督管理局",
                 "reason": "经营者实际经营地在临泉县"},
    "termination": {**_COMPLAINANT, "outcome": "timeout", "summary": "经营者未在调解期限内提出解决方案"},
    "agreement": {**_COMPLAINANT, "agreement_text": "经营者于 2026 年 5 月 20 日前退还货款 2999 元"},
    "case_filed": {**_COMPLAINANT, "case_no": "太市监诉转案〔2026〕17号"},
    "case_not_filed": {**_COMPLAINANT, "reason": "现有证据不足以证明存在违法行为"},
    "association_acceptance": {**_COMPLAINANT, "agency_name": "太和县消费者协会"},
    "referral": {**_COMPLAINANT, "agency_name": "太和县消费者协会", "to_agency_name": "太和县市场监督管理局",
                 "reason": "涉嫌销售不合格产品，需行政执法"},
    "reminder": _TASK,
    "overdue": {**_TASK, "assignee": "th-amr.liaison"},
    "escalation": {**_TASK, "assignee": ""},
    "digest": {"count": 2, "items": [{"subject": "【即将到期】受理审查（2026年5月13日 到期）", "text": "…"},
                                     {"subject": "【即将到期】办结（2026年5月14日 到期）", "text": "…"}]},
}
