"""The engine's deadline service: rules by the complaint's receipt date, counted on the calendar.

Workflow data carries instants as ISO-8601 strings; this is where they become aware datetimes.
"""

from __future__ import annotations

from datetime import datetime

from engine.clock import ensure_aware
from engine.deadlines.calendar import WorkdayCalendar
from engine.deadlines.periods import Deadline
from engine.deadlines.rules import DeadlinePolicy, default_policy, due_for


def as_instant(value: datetime | str) -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"not an ISO-8601 instant: {value!r}") from None
    return ensure_aware(value)


class DeadlineService:
    def __init__(self, policy: DeadlinePolicy | None = None, calendar: WorkdayCalendar | None = None) -> None:
        self.policy = policy or default_policy()
        self.calendar = calendar or WorkdayCalendar()

    def due(self, rule: str, start: datetime | str, received_at: datetime | str | None,
            extended: bool = False) -> Deadline:
        start_at = as_instant(start)
        received = as_instant(received_at) if received_at is not None else start_at
        return due_for(self.policy, self.calendar, rule, start_at, received, extended=extended)

    def rule_names(self) -> list[str]:
        return self.policy.names()
