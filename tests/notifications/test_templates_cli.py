"""Checking an override directory from the command line, and ``serve`` refusing a broken one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "complaintflow.cli", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env={**os.environ, **(env or {})})


def test_templates_check_passes_a_good_directory_and_names_what_is_broken(tmp_path: Path) -> None:
    good = cli("templates", "check", str(tmp_path))
    assert good.returncode == 0 and "templates ok" in good.stdout
    (tmp_path / "transfer.j2").write_text("{% block subject %}{{ tracking_no }{% endblock %}", encoding="utf-8")
    broken = cli("templates", "check", str(tmp_path))
    assert broken.returncode == 1
    assert "transfer: syntax error on line 1" in broken.stderr


def test_serve_refuses_to_start_with_a_broken_override(tmp_path: Path) -> None:
    (tmp_path / "agreement.j2").write_text("{% block subject %}协议{% endblock %}", encoding="utf-8")
    refused = cli("serve", "--port", "1", env={"COMPLAINTFLOW_TEMPLATES_DIR": str(tmp_path),
                                                "DATABASE_URL": f"sqlite:///{tmp_path / 'never.db'}"})
    assert refused.returncode == 1
    assert "COMPLAINTFLOW_TEMPLATES_DIR: agreement: the template has no text block" in refused.stderr
    assert not (tmp_path / "never.db").exists()  # refused before touching the database
