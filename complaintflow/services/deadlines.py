"""The law's deadlines as data: rule versions and calendar years, entered by an administrator.

Both are audited by ``engine.deadlines.config``; after either, the product's deadline service is
reloaded from the database, so the change applies from the next transition on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from complaintflow.wiring import Product
from engine.deadlines import config
from engine.deadlines.rules import DeadlinePolicy
from engine.runner import Actor


@dataclass(frozen=True)
class YearEntered:
    """A calendar year entered, and what it changed: task deadlines and instances whose timers moved."""

    year: int
    recomputed_tasks: int
    recomputed_timer_instances: int


def add_rule_version(product: Product, name: str, period: str, valid_from: date, actor: Actor, *,
                     extension: str | None = None, source: str = "") -> DeadlinePolicy:
    """A new version of rule ``name`` for complaints received from ``valid_from`` on; the resulting policy."""
    with product.uow() as uow:
        policy = config.add_rule_version(uow.session, name, period, valid_from, actor=actor.username,
                                         now=product.clock.now(), extension=extension, source=source,
                                         agency_code=actor.agency_code)
        config.reload(uow.session, product.deadlines)
        uow.commit()
        return policy


def set_calendar_year(product: Product, year: int, holidays: Iterable[date], workdays: Iterable[date],
                      actor: Actor) -> YearEntered:
    """Enter (or correct) a year's holidays and make-up working days, and recompute the provisional
    deadlines and the timers that fall in it, in the same transaction."""
    with product.uow() as uow:
        config.set_calendar_year(uow.session, year, holidays, workdays, actor=actor.username,
                                 now=product.clock.now(), agency_code=actor.agency_code)
        config.reload(uow.session, product.deadlines)
        counts = config.recompute_provisional(uow.session, product.runner)
        uow.commit()
    return YearEntered(year, counts["tasks"], counts["timer_instances"])
