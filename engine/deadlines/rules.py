"""The deadline policy: statutory deadlines as data.

A BPMN task or timer names a rule (``deadline: acceptance``), never a number. The rule's version is
chosen by the complaint's ``received_at`` (its Asia/Shanghai date), because the law in force when a
complaint is received governs its handling: complaints received before 2026-04-15 stay under SAMR
Order No. 20, later ones fall under Order No. 121. Rules are data so an admin can correct and
extend them (``engine.deadlines.config`` persists and audits them); ``default_policy()`` is only the shipped table.

Provincial rules. Some periods are provincial practice, not national law (a consumer association's
acceptance period). The rules table keeps them per province: the rule under its plain name
(``association_acceptance``) is the national default, and a rule named ``<name>_<prefix>`` — the
province's two-digit GB/T 2260 region prefix, e.g. ``association_acceptance_33`` for Zhejiang —
overrides it for agencies of that province. A BPMN task names only the plain rule; when the task
opens, the task index asks the product for the region of the task's agency (the ``RuleRegion`` port
of ``engine.task_index``) and ``DeadlinePolicy.regional(name, region_code)`` picks the rule for it.
The task's index row stores the rule actually applied (``association_acceptance_33``), so resuming a
suspended task or recomputing a provisional deadline counts by the same rule. An admin adds a
province by adding versions of ``<name>_<prefix>``, without code. ``base_rule`` gives the plain name
back: labels and status texts are per plain name, so people see 受理期限 whichever province's
version applies.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from itertools import pairwise

from engine.deadlines.calendar import WorkdayCalendar
from engine.deadlines.periods import Deadline, Period, compute_due, to_shanghai_date

__all__ = ["DeadlinePolicy", "RuleVersion", "UnknownRule", "base_rule", "default_policy", "due_for"]

_REGIONAL = re.compile(r"(.+)_(\d{2})")
"""A provincial rule's name: the plain rule name, ``_``, the province's two-digit region prefix."""


def base_rule(name: str) -> str:
    """The plain rule name of a provincial rule (``association_acceptance_33`` → ``association_acceptance``);
    any other name is its own."""
    match = _REGIONAL.fullmatch(name)
    return match.group(1) if match else name


class UnknownRule(KeyError):
    """No rule of that name, or no version of it covering the complaint's receipt date."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:  # KeyError would show the message quoted, as if it were a key
        return self.message


@dataclass(frozen=True)
class RuleVersion:
    """One version of a named rule, for complaints received in ``[valid_from, valid_until)``
    (Asia/Shanghai dates; ``None`` = unbounded)."""

    name: str
    period: Period
    counts_from: str
    valid_from: date | None = None
    valid_until: date | None = None
    extension: Period | None = None
    on_expiry: str = ""
    source: str = ""

    def __post_init__(self) -> None:
        if not self.name or self.name != self.name.strip():
            raise ValueError(f"rule name {self.name!r} must be non-empty without surrounding spaces")
        if not isinstance(self.period, Period):
            raise TypeError(f"rule {self.name}: period must be a Period (use Period.parse), got {self.period!r}")
        if self.extension is not None and not isinstance(self.extension, Period):
            raise TypeError(f"rule {self.name}: extension must be a Period or None, got {self.extension!r}")
        for label, bound in (("valid_from", self.valid_from), ("valid_until", self.valid_until)):
            if bound is not None and (isinstance(bound, datetime) or not isinstance(bound, date)):
                raise TypeError(f"rule {self.name}: {label} must be a date or None, got {bound!r}")
        start, end = self.valid_from, self.valid_until
        if start is not None and end is not None and start >= end:
            raise ValueError(f"期限规则 {self.name} 的生效日期须早于失效日期 / "
                             f"rule {self.name}: valid_from {start} must be before valid_until {end}")

    def covers(self, day: date) -> bool:
        """Whether a complaint received on ``day`` falls under this version."""
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_until is None or day < self.valid_until
        )

    def describe_validity(self) -> str:
        start = self.valid_from.isoformat() if self.valid_from else "…"
        end = self.valid_until.isoformat() if self.valid_until else "…"
        return f"[{start}, {end})"


class DeadlinePolicy:
    """Named rules, each with non-overlapping versions by receipt date."""

    def __init__(self, rules: Iterable[RuleVersion]) -> None:
        by_name: dict[str, list[RuleVersion]] = {}
        for rule in rules:
            by_name.setdefault(rule.name, []).append(rule)
        for name, versions in by_name.items():
            # Unbounded starts sort first; then each version must end before the next one starts.
            versions.sort(key=lambda version: version.valid_from or date.min)
            for earlier, later in pairwise(versions):
                if earlier.valid_until is None or later.valid_from is None or earlier.valid_until > later.valid_from:
                    raise ValueError(
                        f"期限规则 {name} 的版本 {earlier.describe_validity()} 与 "
                        f"{later.describe_validity()} 有效期重叠 / "
                        f"rule {name}: versions {earlier.describe_validity()} and {later.describe_validity()} overlap"
                    )
        self._rules: dict[str, tuple[RuleVersion, ...]] = {name: tuple(versions) for name, versions in by_name.items()}
        self._provincial = frozenset(base_rule(name) for name in self._rules if base_rule(name) != name)

    def names(self) -> list[str]:
        """The rule names, sorted."""
        return sorted(self._rules)

    def has_provincial(self, name: str) -> bool:
        """Whether some province has its own version of rule ``name`` (a rule ``<name>_<prefix>``)."""
        return name in self._provincial

    def regional(self, name: str, region_code: str | None, received_at: datetime | None = None) -> str:
        """The rule to apply for an agency in ``region_code`` (GB/T 2260, six digits): the province's
        own rule ``<name>_<prefix>`` when the table has one — and, given ``received_at``, a version of
        it for a complaint received then (a province's rule in force only from some date leaves earlier
        complaints to the national one) — else ``name`` (the national default)."""
        if region_code and len(region_code) >= 2 and region_code[:2].isdigit():
            provincial = f"{name}_{region_code[:2]}"
            versions = self._rules.get(provincial, ())
            if versions and (received_at is None
                             or any(v.covers(to_shanghai_date(received_at)) for v in versions)):
                return provincial
        return name

    def versions(self, name: str) -> tuple[RuleVersion, ...]:
        """All versions of ``name``, oldest first."""
        try:
            return self._rules[name]
        except KeyError:
            raise UnknownRule(
                f"未知的期限规则 {name} / unknown deadline rule {name!r}; known rules: "
                f"{', '.join(self.names()) or '(none)'}"
            ) from None

    def rule_for(self, name: str, received_at: datetime) -> RuleVersion:
        """The version of ``name`` governing a complaint received at ``received_at`` (aware)."""
        received_day = to_shanghai_date(received_at)
        versions = self.versions(name)
        for version in versions:
            if version.covers(received_day):
                return version
        covered = ", ".join(version.describe_validity() for version in versions)
        raise UnknownRule(
            f"期限规则 {name} 没有适用于 {received_day.isoformat()} 受理的投诉的版本 / "
            f"deadline rule {name!r} has no version for complaints received on {received_day.isoformat()} "
            f"(Asia/Shanghai); versions cover {covered}"
        )


def due_for(
    policy: DeadlinePolicy,
    calendar: WorkdayCalendar,
    rule_name: str,
    start: datetime,
    received_at: datetime,
    *,
    extended: bool = False,
) -> Deadline:
    """The deadline of rule ``rule_name`` counted from ``start`` (the rule's counts_from event), with
    the version chosen by the complaint's ``received_at``; ``extended`` applies the rule's
    extension (once), and is an error for a rule that has none."""
    rule = policy.rule_for(rule_name, received_at)
    if extended and rule.extension is None:
        raise ValueError(f"期限规则 {rule_name} 不能延长 / deadline rule {rule_name!r} ({rule.describe_validity()}) "
                         "cannot be extended")
    return compute_due(
        rule.period,
        start,
        calendar,
        extended_by=rule.extension if extended else None,
        rule=rule_name,
    )


ORDER_121_IN_FORCE = date(2026, 4, 15)


def default_policy() -> DeadlinePolicy:
    """The shipped table of statutory deadlines, each with its legal source. Only ``mediation``
    changes with Order 121; every other rule has one version for all receipt dates."""
    parse = Period.parse
    rules = [
        RuleVersion(
            name="acceptance",
            period=parse("7wd"),
            counts_from="receipt of complaint (收到投诉之日)",
            on_expiry="overdue; escalate (no deemed acceptance)",
            source="Order 20 art. 14; 消费者权益保护法 art. 46",
        ),
        RuleVersion(
            name="jurisdiction_dispute",
            period=parse("7wd"),
            counts_from="the dispute arising (发生争议之日)",
            on_expiry="common superior designates the handler (共同上一级指定)",
            source="Order 20 art. 30",
        ),
        RuleVersion(
            name="mediation",
            period=parse("45wd"),
            counts_from="acceptance (受理之日)",
            valid_until=ORDER_121_IN_FORCE,
            on_expiry="mediation terminates automatically (终止调解)",
            source="Order 20 art. 21(5); testing time excluded, art. 20",
        ),
        RuleVersion(
            name="mediation",
            period=parse("60cd"),
            counts_from="acceptance (受理之日)",
            valid_from=ORDER_121_IN_FORCE,
            on_expiry="mediation terminates automatically (终止调解)",
            source="Order 121 art. 23(1)(5) (best reading; official text not yet available)",
        ),
        RuleVersion(
            name="termination_notice",
            period=parse("7wd"),
            counts_from="termination decision (作出终止调解决定之日)",
            on_expiry="overdue",
            source="Order 20 art. 21",
        ),
        RuleVersion(
            name="clue_verification",
            period=parse("15wd"),
            extension=parse("15wd"),
            counts_from="discovery of the clue / receipt of the report (发现线索或者收到材料之日)",
            on_expiry="a decision on filing (立案) is due; escalate",
            source="Order 20 art. 23; 行政处罚程序规定 art. 18 (extension once, head's approval)",
        ),
        RuleVersion(
            name="reporter_notice",
            period=parse("5wd"),
            counts_from="the decision whether to file (作出是否立案决定之日)",
            on_expiry="overdue",
            source="Order 20 art. 31",
        ),
        RuleVersion(
            name="case_decision",
            period=parse("90cd"),
            extension=parse("30cd"),
            counts_from="filing (立案之日)",
            on_expiry="overdue; escalate",
            source="行政处罚程序规定 art. 64 (30 days with approval; further only by collective decision)",
        ),
        RuleVersion(
            name="judicial_confirmation",
            period=parse("30cd"),
            counts_from="the mediation agreement taking effect (调解协议生效之日)",
            on_expiry="confirmation no longer available; close the tracking item",
            source="人民调解法 art. 33",
        ),
        # A consumer association's acceptance period is provincial practice: the national default,
        # then one rule per province that has its own (named with the two-digit region prefix).
        RuleVersion(
            name="association_acceptance",
            period=parse("7wd"),
            counts_from="receipt (收到投诉之日)",
            on_expiry="overdue",
            source="national practice (best reading): no national rule binds consumer associations; "
                   "the regulators' acceptance period, Order 20 art. 14",
        ),
        RuleVersion(
            name="association_acceptance_33",
            period=parse("5wd"),
            counts_from="receipt (收到投诉之日)",
            on_expiry="overdue",
            source="浙江省实施《中华人民共和国消费者权益保护法》办法 art. 32 (Zhejiang, region prefix 33)",
        ),
        RuleVersion(
            name="odr_negotiation",
            period=parse("10wd"),
            counts_from="receipt (收到投诉之日)",
            on_expiry="complainant may turn to the regulator",
            source="12315 ODR practice",
        ),
    ]
    return DeadlinePolicy(rules)
