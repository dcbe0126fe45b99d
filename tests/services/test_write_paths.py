"""Every write goes through the service layer: the adapters (web, command line) never commit, and a
use case reached from the command line is audited as it is from the API."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from agencies.tables import User
from complaintflow.services.demo import REFERENCE_WORKFLOWS, seed_demo
from complaintflow.settings import Settings
from complaintflow.wiring import build_product
from engine.clock import FixedClock
from engine.db.tables import AuditEvent, SpecDeployment, SpecVersion
from engine.errors import InvalidWorkflow
from engine.runner import Actor
from tests.workflows.scenario import START

ROOT = Path(__file__).resolve().parents[2]
ADAPTERS = [*sorted((ROOT / "web").rglob("*.py")), ROOT / "complaintflow" / "cli.py"]
CLI = Actor("cli", None, frozenset({"admin"}))


def commits(path: Path) -> list[int]:
    """The lines of ``path`` that call a ``commit`` method (``uow.commit()``, ``session.commit()``, …)."""
    return [node.lineno for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path)))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "commit"]


def test_no_router_or_command_commits() -> None:
    found = [f"{path.relative_to(ROOT)}:{line}" for path in ADAPTERS for line in commits(path)]
    assert found == []
    assert commits(ROOT / "complaintflow" / "services" / "accounts.py")  # the check sees a commit where there is one


def test_a_workflow_deployed_from_the_command_line_is_audited(database_url: str) -> None:
    env = {**os.environ, "DATABASE_URL": database_url, "COMPLAINTFLOW_SECRET_KEY": "k" * 40}
    file = REFERENCE_WORKFLOWS / "case_conversion.bpmn"
    done = subprocess.run([sys.executable, "-m", "complaintflow.cli", "workflows", "deploy", str(file)], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("已部署 / deployed case_conversion v1 (case_conversion.bpmn, sha256 ")
    product = build_product(Settings(database_url=database_url, complaintflow_secret_key="k" * 40))
    with product.reader() as uow:
        events = [(e.actor, e.action, e.details) for e in uow.session.scalars(
            select(AuditEvent).order_by(AuditEvent.id))]
        sha256 = uow.session.scalar(select(SpecVersion.sha256))
    product.close()
    assert events == [
        ("cli", "workflow.uploaded", {"key": "case_conversion", "version": 1, "sha256": sha256, "created": True}),
        ("cli", "workflow.deployed", {"key": "case_conversion", "version": 1}),
    ]


def test_the_demo_is_seeded_in_one_transaction(database_url: str, tmp_path: Path) -> None:
    """A broken reference workflow leaves no demo user behind; seeding again changes nothing."""
    product = build_product(Settings(database_url=database_url), FixedClock(START))
    for reference in sorted(REFERENCE_WORKFLOWS.glob("*.bpmn")):
        (tmp_path / reference.name).write_bytes(reference.read_bytes())
    (tmp_path / "zz_broken.bpmn").write_text("<definitions/>", encoding="utf-8")
    with pytest.raises(InvalidWorkflow):
        seed_demo(product, None, CLI, workflow_dir=tmp_path)
    with product.reader() as uow:
        assert uow.session.scalar(select(func.count()).select_from(User)) == 0
        assert uow.session.scalar(select(func.count()).select_from(SpecVersion)) == 0

    (tmp_path / "zz_broken.bpmn").unlink()
    first = seed_demo(product, None, CLI, workflow_dir=tmp_path)
    again = seed_demo(product, None, CLI, workflow_dir=tmp_path)
    assert all(password is not None for _, password in first.accounts)
    assert [password for _, password in again.accounts] == [None] * len(first.accounts)
    assert [(name, d.created, d.deployed) for name, d in first.workflows] == [
        ("case_conversion.bpmn", True, True), ("complaint_handling.bpmn", True, True)]
    assert [(name, d.created, d.deployed) for name, d in again.workflows] == [
        ("case_conversion.bpmn", False, False), ("complaint_handling.bpmn", False, False)]
    with product.reader() as uow:
        assert uow.session.scalar(select(func.count()).select_from(SpecDeployment)) == 2
        deployed = uow.session.scalars(select(AuditEvent.actor).where(AuditEvent.action == "workflow.deployed"))
        assert list(deployed) == ["cli", "cli"]
    product.close()
