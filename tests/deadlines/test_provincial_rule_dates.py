"""A province's own rule applies only to complaints received while one of its versions is in force."""

from __future__ import annotations

from datetime import date, datetime

from engine.clock import SHANGHAI
from engine.deadlines.periods import Period
from engine.deadlines.rules import DeadlinePolicy, RuleVersion, default_policy


def test_a_provincial_rule_from_a_date_leaves_earlier_complaints_to_the_national_one() -> None:
    policy = DeadlinePolicy([
        RuleVersion("association_acceptance", Period.parse("7wd"), "receipt"),
        RuleVersion("association_acceptance_32", Period.parse("5wd"), "receipt", valid_from=date(2027, 1, 1)),
    ])
    before = datetime(2026, 12, 31, 23, 0, tzinfo=SHANGHAI)
    after = datetime(2027, 1, 1, 0, 30, tzinfo=SHANGHAI)
    assert policy.regional("association_acceptance", "320102", before) == "association_acceptance"
    assert policy.regional("association_acceptance", "320102", after) == "association_acceptance_32"
    assert policy.regional("association_acceptance", "341222", after) == "association_acceptance"


def test_only_rules_with_a_provincial_version_need_the_agencys_region() -> None:
    policy = default_policy()
    assert policy.has_provincial("association_acceptance")
    assert not policy.has_provincial("acceptance") and not policy.has_provincial("association_acceptance_33")
