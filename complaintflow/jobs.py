"""The periodic work of every server process (and of ``complaintflow sweep``), in one place."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime

from agencies.deadline_notices import DeadlineNotices
from agencies.submission_keys import purge_expired
from complaintflow.metrics import SWEEP_SECONDS
from complaintflow.wiring import Product
from engine.deadlines.config import reload
from engine.deadlines.ladder import EscalationReport, sweep_steps
from engine.sweep import SweepReport, fire_due_timers
from notifications.dispatcher import DispatchReport, dispatch_pending, release_digests


@dataclass
class SweepSummary:
    timers: SweepReport
    steps: EscalationReport
    seconds: float
    errors: list[str] = field(default_factory=list)
    submission_keys_purged: int = 0

    def __str__(self) -> str:
        return (f"timers fired: {self.timers.timers_fired}, timer conflicts: {self.timers.conflicts}, "
                f"deadline steps: {self.steps.handled} {self.steps.by_step}, skipped: {self.steps.skipped}, "
                f"errors: {len(self.errors) + len(self.timers.errors)}, {self.seconds:.3f}s")


def dispatch_notices(product: Product) -> DispatchReport:
    return dispatch_pending(product.session_factory, product.channels, product.clock, product.outbox,
                            fetch=product.fetch_blob)


def release_daily_digests(product: Product) -> int:
    return release_digests(product.session_factory, product.clock.now(), product.outbox)


def run_sweep(product: Product, now: datetime | None = None) -> SweepSummary:
    """One sweep as of ``now``: BPMN timers first (they may end tasks), then the escalation ladder, then
    the expired ``Idempotency-Key`` answers and duplicate fingerprints (``agencies.submission_keys``)."""
    started = time.perf_counter()
    now = now or product.clock.now()
    with product.uow() as uow:
        reload(uow.session, product.deadlines)  # rules or years another process changed
    timers = fire_due_timers(product.session_factory, product.runner, now)
    steps = sweep_steps(product.session_factory, DeadlineNotices(product.outbox), now)
    with product.uow() as uow:  # expired repeat-submission answers: they hold tracking codes
        purged = purge_expired(uow.session, now)
        uow.commit()
    seconds = time.perf_counter() - started
    SWEEP_SECONDS.observe(seconds)
    return SweepSummary(timers, steps, seconds, submission_keys_purged=purged)
