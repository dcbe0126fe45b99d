"""Recipient preferences: which channels a staff user wants, and reminders as one daily digest."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db.dialect import dialect_insert
from notifications.tables import NotificationPreference
from notifications.vocab import USER_CHANNELS, ChannelName


@dataclass(frozen=True)
class Preferences:
    channels: frozenset[str]
    digest_reminders: bool = False

    def wants(self, channel: str) -> bool:
        return channel in self.channels


DEFAULT_PREFERENCES = Preferences(frozenset({ChannelName.IN_APP.value, ChannelName.EMAIL.value}))
"""Without a choice of their own, staff get in-app notices and e-mail (when they have an address)."""


def _from_row(row: NotificationPreference) -> Preferences:
    return Preferences(frozenset(row.channels) | {ChannelName.IN_APP.value}, row.digest_reminders)


def get_preferences(session: Session, user_id: int) -> Preferences:
    row = session.get(NotificationPreference, user_id, populate_existing=True)  # after an upsert in this session
    return _from_row(row) if row is not None else DEFAULT_PREFERENCES


def preferences_for(session: Session, user_ids: Collection[int]) -> dict[int, Preferences]:
    """Every user's preferences in one query, defaults filled in."""
    found = {row.user_id: _from_row(row) for row in session.scalars(
        select(NotificationPreference).where(NotificationPreference.user_id.in_(user_ids))
        .execution_options(populate_existing=True))}
    return {user_id: found.get(user_id, DEFAULT_PREFERENCES) for user_id in user_ids}


def set_preferences(session: Session, user_id: int, *, channels: Iterable[str], digest_reminders: bool,
                    now: datetime) -> Preferences:
    """Store a user's choice (an upsert, safe against a concurrent save). In-app cannot be turned off."""
    chosen = set(channels)
    unknown = chosen - USER_CHANNELS
    if unknown:
        raise ValueError(f"unknown notification channels {sorted(unknown)}; choose from {sorted(USER_CHANNELS)}")
    stored = sorted(chosen | {ChannelName.IN_APP.value})
    insert = dialect_insert(session, NotificationPreference).values(
        user_id=user_id, channels=stored, digest_reminders=digest_reminders, updated_at=now)
    session.execute(insert.on_conflict_do_update(
        index_elements=[NotificationPreference.user_id],
        set_={"channels": insert.excluded.channels, "digest_reminders": insert.excluded.digest_reminders,
              "updated_at": insert.excluded.updated_at}))
    return Preferences(frozenset(stored), digest_reminders)
