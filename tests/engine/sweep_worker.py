"""Run one escalation sweep in its own OS process (for the two-process exactly-once test)."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Any

from engine.db.session import make_engine, make_session_factory
from engine.deadlines.ladder import sweep_steps


class CountingHandler:
    def handle(self, session: Any, step: Any, task: Any, now: datetime) -> dict[str, object]:
        return {"worker_pid": __import__("os").getpid()}


def main(url: str, now_iso: str, worker: str) -> None:
    engine = make_engine(url)
    report = sweep_steps(make_session_factory(engine), CountingHandler(), datetime.fromisoformat(now_iso),
                         batch=50, worker=worker)
    print(report.handled)
    engine.dispose()


if __name__ == "__main__":
    main(*sys.argv[1:4])
