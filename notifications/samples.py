"""A realistic context for every template: what ``check_templates`` renders an admin's override with.

Exactly the documented variables of each template, optional ones included (the tests hold the two
together). Dates are given as callers give them: ``notice_date`` as an ISO date, ``due_date`` as
the deadline notices write it; the templates write both in Chinese.
"""

from __future__ import annotations

from typing import Any

_DATED = {"notice_date": "2026-05-06"}
_COMPLAINANT = {"complainant_name": "张三", "tracking_no": "TS2026050600000018",
                "agency_name": "太和县市场监督管理局", **_DATED}
_TASK = {"agency_name": "太和县市场监督管理局", "task_title": "受理审查", "due_date": "2026年5月13日", **_DATED}

SAMPLE_CONTEXTS: dict[str, dict[str, Any]] = {
    "acceptance": _COMPLAINANT,
    "rejection": {**_COMPLAINANT, "reason": "不属于市场监督管理部门职责范围", "ground_label": "不属于职责或无处理权限"},
    "transfer": {"complainant_name": "张三", "tracking_no": "TS2026050600000018",
                 "from_agency_name": "太和县市场监督管理局", "to_agency_name": "临泉县市场监督管理局",
                 "reason": "经营者实际经营地在临泉县", **_DATED},
    "termination": {**_COMPLAINANT, "outcome": "timeout", "summary": "经营者未在调解期限内提出解决方案"},
    "agreement": {**_COMPLAINANT, "agency_name": "太和县消费纠纷人民调解委员会", "agency_kind": "mediation_committee",
                  "agreement_text": "经营者于 2026 年 5 月 20 日前退还货款 2999 元"},
    "case_filed": {**_COMPLAINANT, "case_no": "太市监诉转案〔2026〕17号", "source": "report"},
    "case_not_filed": {**_COMPLAINANT, "reason": "现有证据不足以证明存在违法行为", "source": "complaint"},
    "association_acceptance": {**_COMPLAINANT, "agency_name": "太和县消费者协会"},
    "referral": {**_COMPLAINANT, "agency_name": "太和县消费者协会", "to_agency_name": "太和县市场监督管理局",
                 "reason": "涉嫌销售不合格产品，需行政执法"},
    "not_mediated": {**_COMPLAINANT, "complainant_consent": True, "business_consent": False},
    "odr_offer": {**_COMPLAINANT, "business_name": "太和县诚信家电有限公司",
                  "offer": "全额退款 3299 元，三个工作日内到账",
                  "explanation": "经核实空调压缩机故障，同意退货退款", "odr_ends_at": "2026-05-20T23:59:59+08:00"},
    "settled": {**_COMPLAINANT, "business_name": "太和县诚信家电有限公司",
                "offer": "全额退款 3299 元，三个工作日内到账"},
    "odr_ended": {**_COMPLAINANT, "business_name": "太和县诚信家电有限公司", "odr_outcome": "declined"},
    "business_notice": {"business_name": "太和县诚信家电有限公司", "tracking_no": "TS2026050600000018",
                        "agency_name": "太和县市场监督管理局", "event": "new",
                        "odr_ends_at": "2026-05-20T23:59:59+08:00",
                        "odr_outcome": "timeout", "outcome": "no_agreement", "complainant_consent": True,
                        "business_consent": False, "agreement_text": "经营者于 2026 年 5 月 20 日前退还货款 2999 元",
                        **_DATED},
    "designation": {**_COMPLAINANT, "agency_name": "阜阳市市场监督管理局", "from_agency_name": "太和县市场监督管理局",
                    "to_agency_name": "临泉县市场监督管理局", "reason": "经营者实际经营地在临泉县"},
    "designated": {"agency_name": "阜阳市市场监督管理局", "from_agency_name": "太和县市场监督管理局",
                   "to_agency_name": "临泉县市场监督管理局", "tracking_no": "TS2026050600000018",
                   "subject": "空调制冷故障", "reason": "经营者实际经营地在临泉县", **_DATED},
    "reminder": _TASK,
    "overdue": {**_TASK, "assignee": "th-amr.liaison"},
    "escalation": {**_TASK, "assignee": ""},
    "digest": {"count": 2, "items": [{"subject": "【即将到期】受理审查（2026年5月13日到期）", "text": "…"},
                                     {"subject": "【即将到期】办结（2026年5月14日到期）", "text": "…"}],
               **_DATED},
}
