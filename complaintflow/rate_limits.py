"""Rate limits kept in the database, so that every server process counts the same events and a
restart forgets none.

A limit is a name, a number of events and a window; an event is a row of ``rate_limit_events``
under ``name:subject`` (an address, a username and an address, …). A check counts the subject's
rows inside the window through the (key, at) index; rows older than the longest window are
deleted as new events arrive.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from complaintflow.tables import RateLimitEvent


@dataclass(frozen=True)
class Limit:
    name: str
    events: int
    window: timedelta

    def key(self, subject: str) -> str:
        return f"{self.name}:{subject}"[:200]


# Failed logins: a few tries per account and address, and a ceiling per address across usernames,
# so that one password tried against many accounts is stopped as well.
LOGIN_PER_ACCOUNT = Limit("login", 5, timedelta(minutes=5))
LOGIN_PER_ADDRESS = Limit("login-ip", 20, timedelta(minutes=15))
PUBLIC_INTAKE = Limit("public-intake", 20, timedelta(hours=1))
PUBLIC_LOOKUP = Limit("public-lookup", 60, timedelta(minutes=5))
LONGEST_WINDOW = max(limit.window for limit in (LOGIN_PER_ACCOUNT, LOGIN_PER_ADDRESS, PUBLIC_INTAKE, PUBLIC_LOOKUP))


def exceeded(session: Session, limit: Limit, subject: str, now: datetime) -> bool:
    """Whether ``subject`` has used up ``limit`` within its window up to ``now``."""
    count = session.scalar(select(func.count()).select_from(RateLimitEvent).where(
        RateLimitEvent.key == limit.key(subject), RateLimitEvent.at > now - limit.window)) or 0
    return count >= limit.events


def record(session: Session, limit: Limit, subject: str, now: datetime) -> None:
    """Count one event (the caller commits), and drop events no window can still see."""
    session.execute(delete(RateLimitEvent).where(RateLimitEvent.at <= now - LONGEST_WINDOW))
    session.execute(insert(RateLimitEvent).values(key=limit.key(subject), at=now))


def clear(session: Session, limit: Limit, subject: str) -> None:
    """Forget a subject's events (a successful login clears its account's failures)."""
    session.execute(delete(RateLimitEvent).where(RateLimitEvent.key == limit.key(subject)))


def admit(session: Session, limit: Limit, subject: str, now: datetime) -> bool:
    """Count a request against ``limit`` if it is still within it; ``False`` (nothing counted) if not."""
    if exceeded(session, limit, subject, now):
        return False
    record(session, limit, subject, now)
    return True
