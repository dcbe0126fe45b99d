"""The deadline policy: the shipped table, version choice by receipt date, due_for, validation."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from engine.clock import SHANGHAI
from engine.deadlines.calendar import WorkdayCalendar
from engine.deadlines.periods import Period
from engine.deadlines.rules import DeadlinePolicy, RuleVersion, UnknownRule, default_policy, due_for

D = date.fromisoformat


def sh(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@pytest.fixture(scope="module")
def policy() -> DeadlinePolicy:
    return default_policy()


@pytest.fixture(scope="module")
def calendar() -> WorkdayCalendar:
    return WorkdayCalendar()


def test_default_policy_names(policy: DeadlinePolicy) -> None:
    assert policy.names() == [
        "acceptance",
        "association_acceptance",
        "association_acceptance_33",
        "case_decision",
        "clue_verification",
        "judicial_confirmation",
        "jurisdiction_dispute",
        "mediation",
        "odr_negotiation",
        "reporter_notice",
        "termination_notice",
    ]


@pytest.mark.parametrize(
    ("name", "received_at", "period", "extension"),
    [
        pytest.param("acceptance", "2026-01-10 09:00", "7wd", None, id="acceptance"),
        pytest.param("acceptance", "2030-06-10 09:00", "7wd", None, id="acceptance-any-date"),
        pytest.param("jurisdiction_dispute", "2026-01-10 09:00", "7wd", None, id="jurisdiction_dispute"),
        pytest.param("mediation", "2026-04-14 23:59", "45wd", None, id="mediation-order-20"),
        pytest.param("mediation", "2026-04-15 00:00", "60cd", None, id="mediation-order-121"),
        pytest.param("termination_notice", "2026-01-10 09:00", "7wd", None, id="termination_notice"),
        pytest.param("clue_verification", "2026-01-10 09:00", "15wd", "15wd", id="clue_verification"),
        pytest.param("reporter_notice", "2026-01-10 09:00", "5wd", None, id="reporter_notice"),
        pytest.param("case_decision", "2026-01-10 09:00", "90cd", "30cd", id="case_decision"),
        pytest.param("judicial_confirmation", "2026-01-10 09:00", "30cd", None, id="judicial_confirmation"),
        pytest.param("association_acceptance", "2026-01-10 09:00", "7wd", None, id="association_acceptance"),
        pytest.param("association_acceptance_33", "2026-01-10 09:00", "5wd", None, id="association_acceptance_33"),
        pytest.param("odr_negotiation", "2026-01-10 09:00", "10wd", None, id="odr_negotiation"),
    ],
)
def test_default_policy_table(
    policy: DeadlinePolicy, name: str, received_at: str, period: str, extension: str | None
) -> None:
    rule = policy.rule_for(name, sh(received_at))
    assert rule.name == name
    assert str(rule.period) == period
    assert (str(rule.extension) if rule.extension else None) == extension
    assert rule.counts_from and rule.on_expiry and rule.source


def test_mediation_versions_meet_on_2026_04_15(policy: DeadlinePolicy) -> None:
    order_20, order_121 = policy.versions("mediation")
    assert (order_20.valid_from, order_20.valid_until) == (None, D("2026-04-15"))
    assert (order_121.valid_from, order_121.valid_until) == (D("2026-04-15"), None)
    assert "Order 20" in order_20.source and "Order 121" in order_121.source


@pytest.mark.parametrize(
    ("start", "received_at", "last_day"),
    [
        pytest.param(sh("2026-04-14 09:00"), sh("2026-04-14 09:00"), "2026-06-18", id="received-04-14-45wd"),
        pytest.param(sh("2026-04-15 09:00"), sh("2026-04-15 09:00"), "2026-06-15", id="received-04-15-60cd"),
        pytest.param(
            datetime(2026, 4, 14, 15, 59, 59, tzinfo=UTC),
            datetime(2026, 4, 14, 15, 59, 59, tzinfo=UTC),
            "2026-06-18",
            id="utc-15h59-is-shanghai-04-14-45wd",
        ),
        pytest.param(
            datetime(2026, 4, 14, 16, 30, tzinfo=UTC),
            datetime(2026, 4, 14, 16, 30, tzinfo=UTC),
            "2026-06-15",
            id="utc-16h30-on-04-14-is-shanghai-04-15-60cd",
        ),
        # the version follows receipt, the count follows acceptance (start)
        pytest.param(sh("2026-04-20 09:00"), sh("2026-04-14 09:00"), "2026-06-25", id="accepted-04-20-under-45wd"),
        pytest.param(
            sh("2026-04-20 09:00"),
            sh("2026-04-15 09:00"),
            "2026-06-22",
            id="accepted-04-20-under-60cd-ends-dragon-boat-weekend",
        ),
    ],
)
def test_mediation_regime_change(
    policy: DeadlinePolicy, calendar: WorkdayCalendar, start: datetime, received_at: datetime, last_day: str
) -> None:
    deadline = due_for(policy, calendar, "mediation", start, received_at)
    assert deadline.last_day == D(last_day)
    assert deadline.due_at.isoformat() == f"{last_day}T23:59:59+08:00"
    assert (deadline.rule, deadline.provisional) == ("mediation", False)


@pytest.mark.parametrize(
    ("name", "start", "extended", "last_day", "provisional"),
    [
        pytest.param("acceptance", "2026-11-18 10:00", False, "2026-11-27", False, id="acceptance-doc-example"),
        pytest.param("acceptance", "2026-12-28 10:00", False, "2027-01-07", True, id="acceptance-into-2027"),
        pytest.param("clue_verification", "2026-11-02 10:00", False, "2026-11-23", False, id="clue-15wd"),
        pytest.param("clue_verification", "2026-11-02 10:00", True, "2026-12-14", False, id="clue-extended"),
        pytest.param("case_decision", "2026-03-01 10:00", False, "2026-06-01", False, id="case-90cd-saturday"),
        pytest.param("case_decision", "2026-03-01 10:00", True, "2026-07-01", False, id="case-extended"),
        pytest.param("case_decision", "2026-07-03 10:00", True, "2026-11-09", False, id="case-extended-holiday"),
        pytest.param("reporter_notice", "2026-09-29 10:00", False, "2026-10-12", False, id="reporter-national-day"),
        pytest.param("odr_negotiation", "2026-02-12 10:00", False, "2026-03-04", False, id="odr-spring-festival"),
        pytest.param(
            "judicial_confirmation", "2026-09-01 10:00", False, "2026-10-08", False, id="judicial-national-day"
        ),
        pytest.param(
            "association_acceptance_33", "2027-02-01 10:00", False, "2027-02-10", True, id="association-2027-spring"
        ),
    ],
)
def test_due_for(
    policy: DeadlinePolicy,
    calendar: WorkdayCalendar,
    name: str,
    start: str,
    extended: bool,
    last_day: str,
    provisional: bool,
) -> None:
    deadline = due_for(policy, calendar, name, sh(start), sh(start), extended=extended)
    assert (deadline.rule, deadline.last_day, deadline.provisional) == (name, D(last_day), provisional)


def test_extending_a_rule_without_extension_raises(policy: DeadlinePolicy, calendar: WorkdayCalendar) -> None:
    with pytest.raises(ValueError, match=r"'mediation' .* cannot be extended"):
        due_for(policy, calendar, "mediation", sh("2026-05-04 09:00"), sh("2026-05-04 09:00"), extended=True)


def test_unknown_rule_name(policy: DeadlinePolicy, calendar: WorkdayCalendar) -> None:
    with pytest.raises(UnknownRule) as raised:
        due_for(policy, calendar, "acceptence", sh("2026-11-18 10:00"), sh("2026-11-18 10:00"))
    assert isinstance(raised.value, KeyError)
    assert str(raised.value).startswith("未知的期限规则 acceptence / unknown deadline rule 'acceptence'; known rules: "
                                        "acceptance, ")


def test_no_version_for_receipt_date() -> None:
    only_121 = DeadlinePolicy(
        [RuleVersion("mediation", Period.parse("60cd"), "acceptance", valid_from=D("2026-04-15"))]
    )
    with pytest.raises(UnknownRule) as raised:
        only_121.rule_for("mediation", datetime(2026, 4, 14, 15, 0, tzinfo=UTC))  # 23:00 in Shanghai
    assert str(raised.value) == (
        "期限规则 mediation 没有适用于 2026-04-14 受理的投诉的版本 / "
        "deadline rule 'mediation' has no version for complaints received on 2026-04-14 (Asia/Shanghai); "
        "versions cover [2026-04-15, …)"
    )


def test_rule_for_rejects_naive_received_at(policy: DeadlinePolicy) -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        policy.rule_for("acceptance", datetime(2026, 11, 18, 10, 0))


def _version(valid_from: str | None, valid_until: str | None) -> RuleVersion:
    return RuleVersion(
        "acceptance",
        Period.parse("7wd"),
        "receipt",
        valid_from=D(valid_from) if valid_from else None,
        valid_until=D(valid_until) if valid_until else None,
    )


@pytest.mark.parametrize(
    "bounds",
    [
        pytest.param([(None, None), (None, None)], id="two-unbounded"),
        pytest.param([(None, "2026-04-16"), ("2026-04-15", None)], id="one-day-overlap"),
        pytest.param([("2026-01-01", None), ("2026-06-01", "2026-07-01")], id="open-end-covers-later"),
        pytest.param([(None, None), ("2026-06-01", "2026-07-01")], id="unbounded-covers-all"),
    ],
)
def test_overlapping_versions_are_rejected(bounds: list[tuple[str | None, str | None]]) -> None:
    with pytest.raises(ValueError, match=r"rule acceptance: versions .* overlap"):
        DeadlinePolicy([_version(*bound) for bound in bounds])


def test_adjacent_and_gapped_versions_are_accepted() -> None:
    policy = DeadlinePolicy(
        [
            _version("2026-06-01", None),
            _version(None, "2026-04-15"),
            _version("2026-04-15", "2026-05-01"),
        ]
    )
    assert [version.valid_from for version in policy.versions("acceptance")] == [None, D("2026-04-15"), D("2026-06-01")]
    assert policy.rule_for("acceptance", sh("2026-04-30 23:59")).valid_until == D("2026-05-01")
    with pytest.raises(UnknownRule, match="2026-05-15"):
        policy.rule_for("acceptance", sh("2026-05-15 09:00"))


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        pytest.param(
            {"valid_from": D("2026-04-15"), "valid_until": D("2026-04-15")},
            ValueError,
            "must be before valid_until",
            id="empty-validity",
        ),
        pytest.param({"period": "7wd"}, TypeError, "use Period.parse", id="period-as-text"),
        pytest.param({"name": ""}, ValueError, "non-empty", id="empty-name"),
        pytest.param({"valid_from": sh("2026-04-15 00:00")}, TypeError, "must be a date", id="datetime-bound"),
    ],
)
def test_bad_rule_version(kwargs: dict[str, object], error: type[Exception], message: str) -> None:
    fields: dict[str, object] = {"name": "acceptance", "period": Period.parse("7wd"), "counts_from": "receipt"}
    fields.update(kwargs)
    with pytest.raises(error, match=message):
        RuleVersion(**fields)  # type: ignore[arg-type]
