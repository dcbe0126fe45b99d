"""APScheduler 3 only ticks from memory: the work it starts lives in the product's own tables.

Every server process runs the same ticks; claiming rows (SKIP LOCKED) keeps them from doing the
same work twice. (APScheduler 3's own job stores cannot be shared between processes, hence the
product's tables.)
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler

log = logging.getLogger(__name__)


def start_scheduler(jobs: dict[str, tuple[Callable[[], object], int]], run_now: bool = True) -> BackgroundScheduler:
    """Start a background scheduler running each ``name: (job, every_seconds)``; with ``run_now`` each
    job also runs at once, so a process that was down catches up as soon as it starts."""
    scheduler = BackgroundScheduler(timezone="Asia/Shanghai")
    for name, (job, seconds) in jobs.items():
        scheduler.add_job(_logged(name, job), "interval", seconds=seconds, id=name, max_instances=1,
                          coalesce=True, misfire_grace_time=seconds,
                          next_run_time=datetime.now(UTC) if run_now else None)
    scheduler.start()
    return scheduler


def _logged(name: str, job: Callable[[], object]) -> Callable[[], None]:
    def run() -> None:
        try:
            result = job()
            log.info("scheduler job %s: %s", name, result)
        except Exception:  # a failing tick must not stop the next one
            log.exception("scheduler job %s failed", name)

    return run
