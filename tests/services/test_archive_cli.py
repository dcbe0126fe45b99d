"""``complaintflow archive --closed-before``: every complaint whose process ended before the date is archived,
one unit of work each, with a progress bar; an open one is left; a bad date is refused in Chinese (exit 2)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.agencies.test_archive import closed_complaint
from tests.workflows.scenario import Scenario

ROOT = Path(__file__).resolve().parents[2]


def cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run([sys.executable, "-m", "complaintflow.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def test_archive_closed_before_archives_the_ended_and_skips_the_open(database_url: str) -> None:
    s = Scenario(database_url).seed()
    try:
        first, second = closed_complaint(s), closed_complaint(s)
        running = s.submit()
    finally:
        s.close()

    liaison = cli(database_url, "archive", "--closed-before", "2026-11-19", "--as", "th-amr.liaison")
    assert liaison.returncode == 1 and "只有承办单位的负责人可以归档" in liaison.stderr
    none_yet = cli(database_url, "archive", "--closed-before", "2026-11-18")  # ended on the 18th: not before it
    assert none_yet.returncode == 0 and "archived 0" in none_yet.stdout

    result = cli(database_url, "archive", "--closed-before", "2026-11-19", "--as", "th-amr.supervisor")
    assert result.returncode == 0, result.stderr
    assert "已归档 / archived 2, 失败 / failed 0" in result.stdout
    assert "归档 / archiving" in result.stderr and "2/2" in result.stderr  # tqdm's bar

    s = Scenario(database_url)
    try:
        for c in (first, second):
            row = s.complaint(c.id)
            assert row.archived_at is not None and row.archive_sha256 is not None
            with s.product.reader() as uow:
                assert s.product.blobs.get(uow.session, row.archive_sha256) is not None
        assert s.complaint(running.id).archived_at is None
        assert s.audit_actions(first).count("complaint.archived") == 1
    finally:
        s.close()

    again = cli(database_url, "archive", "--closed-before", "2026-11-19")
    assert again.returncode == 0 and "archived 0" in again.stdout  # nothing left to archive


def test_a_bad_date_is_refused_in_chinese(database_url: str) -> None:
    result = cli(database_url, "archive", "--closed-before", "2026-13-01")
    assert result.returncode == 2
    assert "--closed-before: 需要 YYYY-MM-DD 格式的日期" in result.stderr and "Traceback" not in result.stderr
