"""The closed vocabularies of notifications: outbox statuses and channel names.

``StrEnum`` so that members compare equal to the strings stored in the database.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    PENDING = "pending"  # waiting for its first send
    RETRY = "retry"  # failed at least once; due again at ``next_attempt_at``
    HELD = "held"  # a reminder e-mail waiting for the recipient's daily digest
    DIGESTED = "digested"  # folded into a digest row (``digest_id``)
    SENT = "sent"
    DEAD = "dead"  # given up: visible to admins, who can retry it


DUE_STATUSES = (Status.PENDING.value, Status.RETRY.value)


class ChannelName(StrEnum):
    EMAIL = "email"  # SMTP
    SMS = "sms"  # the complainant's phone, through the signed webhook (an SMS gateway)
    IN_APP = "in_app"  # the staff inbox, written at enqueue time


USER_CHANNELS = frozenset({ChannelName.IN_APP.value, ChannelName.EMAIL.value})
"""Channels a staff user may choose (users have no phone number on record)."""


def sql_in(values: type[StrEnum]) -> str:
    """``'a', 'b'`` for a CHECK constraint built from an enum."""
    return ", ".join(f"'{member.value}'" for member in values)
