"""The outbox's deployment settings, built by the wiring from the product's settings and passed down.

What depends on the deployment — is there an SMS gateway, where are the admins' template overrides,
when does the daily digest go out — travels as a value to the enqueue functions and the dispatcher:
no process-wide state, so two products (or two tests) in one process never see each other's settings.
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
