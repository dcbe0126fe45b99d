"""What the agencies' roles allow on workflow tasks: the product's ``LanePolicy`` for the engine.

A BPMN lane names the role whose holders work its tasks. A supervisor (负责人) answers for the
agency's liaison work, so may also work the liaison lane, and may act on a task a colleague holds
(release it, hand it over, stop or restart its clock, complete it). A business's own user (role
``business``) works only the ``business`` lane, and never for a colleague.
"""

from __future__ import annotations

from agencies.vocab import Role
from engine.actors import Actor


class AgencyLanePolicy:
    """The agencies' rule for who works which tasks (implements ``engine.actors.LanePolicy``)."""

    def may_work(self, actor: Actor, lane: str | None) -> bool:
        if lane is None:
            return False
        return lane in actor.roles or (lane == Role.LIAISON and Role.SUPERVISOR in actor.roles)

    def acts_for_others(self, actor: Actor) -> bool:
        return Role.SUPERVISOR in actor.roles
