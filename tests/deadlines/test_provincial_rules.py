"""A consumer association's acceptance period is provincial practice: the rules table keeps the national
default under the plain name and a province's own rule under ``<name>_<two-digit region prefix>``."""

from __future__ import annotations

from datetime import datetime

import pytest

from engine.clock import SHANGHAI
from engine.deadlines.calendar import WorkdayCalendar
from engine.deadlines.periods import Period
from engine.deadlines.rules import DeadlinePolicy, RuleVersion, base_rule, default_policy, due_for

RECEIVED = datetime(2026, 11, 18, 10, 0, tzinfo=SHANGHAI)  # a Wednesday


@pytest.mark.parametrize(("region", "rule", "due"), [
    pytest.param("330106", "association_acceptance_33", "2026-11-25", id="zhejiang-hangzhou-5wd"),
    pytest.param("341222", "association_acceptance", "2026-11-27", id="anhui-taihe-national-7wd"),
    pytest.param("110105", "association_acceptance", "2026-11-27", id="beijing-national-7wd"),
    pytest.param(None, "association_acceptance", "2026-11-27", id="no-region-national"),
    pytest.param("", "association_acceptance", "2026-11-27", id="empty-region-national"),
])
def test_an_association_gets_its_provinces_acceptance_period(region: str | None, rule: str, due: str) -> None:
    policy = default_policy()
    chosen = policy.regional("association_acceptance", region)
    assert chosen == rule and base_rule(chosen) == "association_acceptance"
    deadline = due_for(policy, WorkdayCalendar(), chosen, RECEIVED, RECEIVED)
    assert deadline.due_at.astimezone(SHANGHAI).date().isoformat() == due


def test_the_zhejiang_rule_names_its_source_and_the_default_does_not_claim_it() -> None:
    policy = default_policy()
    [national] = policy.versions("association_acceptance")
    [zhejiang] = policy.versions("association_acceptance_33")
    assert "浙江" in zhejiang.source and "浙江" not in national.source
    assert (str(national.period), str(zhejiang.period)) == ("7wd", "5wd")


def test_an_admin_adds_a_province_as_data() -> None:
    anhui = RuleVersion(name="association_acceptance_34", period=Period.parse("10wd"), counts_from="receipt",
                        on_expiry="overdue", source="安徽省（示例）")
    policy = DeadlinePolicy([*(v for n in default_policy().names() for v in default_policy().versions(n)), anhui])
    assert policy.regional("association_acceptance", "341222") == "association_acceptance_34"
    assert policy.regional("association_acceptance", "330106") == "association_acceptance_33"
    assert policy.regional("acceptance", "341222") == "acceptance"  # a rule with no provincial versions


def test_base_rule_leaves_plain_names_alone() -> None:
    assert base_rule("mediation") == "mediation"
    assert base_rule("association_acceptance_33") == "association_acceptance"
