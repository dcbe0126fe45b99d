"""Who acts on the engine, and the product's port that says what their roles allow.

The engine checks two things about people on every task action: may this person work a task of
this lane, and may this person act on a task a colleague of the same agency holds (release it, hand
it over, suspend its clock, complete it). Which roles answer yes is the product's organisation, not
the engine's, so the engine asks a ``LanePolicy`` the product passes to the ``Runner``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Actor:
    """Who acts: a user of one agency with roles, or the system (scheduler, message routing)."""

    username: str
    agency_code: str | None = None
    roles: frozenset[str] = frozenset()


SYSTEM = Actor("system", None, frozenset({"system"}))


class LanePolicy(Protocol):
    """The product's rule for who works which tasks; the engine only ever asks these two questions."""

    def may_work(self, actor: Actor, lane: str | None) -> bool:
        """May ``actor`` work (claim, complete) a task of ``lane``? A task without a lane is nobody's."""
        ...

    def acts_for_others(self, actor: Actor) -> bool:
        """May ``actor`` act on a task another user of the agency holds (release, hand over, suspend,
        resume, complete it)?"""
        ...
