"""Process-wide outbox settings, set once by the wiring.

The enqueue functions are called from deep inside the engine's transaction with a fixed signature
(session, template, context, key, now), so what depends on deployment — is there an SMS gateway,
where are the admins' template overrides, when does the daily digest go out — is read from here.
``configure`` returns the previous settings so tests can put them back.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OutboxConfig:
    sms_via_webhook: bool = False
    """Queue an ``sms`` row for the complainant's phone (the webhook gateway is configured)."""
    templates_dir: str | None = None
    """Admins' override directory (``COMPLAINTFLOW_TEMPLATES_DIR``)."""
    digest_hour: int = 8
    """Hour of the day (Asia/Shanghai) at which held reminders go out as one digest."""

    def __post_init__(self) -> None:
        if not 0 <= self.digest_hour <= 23:
            raise ValueError(f"digest_hour must be 0–23, not {self.digest_hour}")


_current = OutboxConfig()


def configure(*, sms_via_webhook: bool = False, templates_dir: str | None = None, digest_hour: int = 8) -> OutboxConfig:
    """Replace the settings; returns the ones replaced."""
    global _current
    previous, _current = _current, OutboxConfig(sms_via_webhook, templates_dir, digest_hour)
    return previous


def restore(config: OutboxConfig) -> None:
    global _current
    _current = config


def current() -> OutboxConfig:
    return _current
