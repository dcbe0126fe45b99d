"""Exceptions of the agencies package. Input errors are pydantic ``ValidationError``s (they name
the field); these are the others, each carrying the data a caller needs to answer::

    AgenciesError
    ├── InvalidUser          a user that breaks a rule (unknown role, missing agency)
    └── TrackingNumberClash  no free tracking number after several random draws
"""

from __future__ import annotations


class AgenciesError(Exception):
    """Base class of this package's errors."""


class InvalidUser(AgenciesError):
    def __init__(self, username: str, reason: str) -> None:
        super().__init__(f"user {username!r}: {reason}")
        self.username = username
        self.reason = reason


class TrackingNumberClash(AgenciesError):
    def __init__(self, attempts: int) -> None:
        super().__init__(f"no free tracking number after {attempts} attempts")
        self.attempts = attempts
