"""Schemathesis fuzzes every operation of /openapi.json on a real uvicorn server: no 5xx, ever.

Run by hand with the same command as here (see README), e.g.
``schemathesis run http://127.0.0.1:8000/openapi.json -c not_a_server_error -H "Authorization: Bearer …"``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bench._server import ROOT, servers

PASSWORD = "Fuzz-Huaihe-8d3m"


@pytest.fixture
def server(database_url: str) -> Iterator[str]:
    env = {**os.environ, "DATABASE_URL": database_url, "COMPLAINTFLOW_DEMO_PASSWORD": PASSWORD}
    seeded = subprocess.run([sys.executable, "-m", "complaintflow.cli", "seed", "--demo"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert seeded.returncode == 0, seeded.stderr
    with servers(env) as (urls, _processes):
        yield urls[0]


def token(url: str, username: str) -> str:
    response = httpx.post(f"{url}/api/v1/auth/token", data={"username": username, "password": PASSWORD})
    response.raise_for_status()
    return str(response.json()["access_token"])


@pytest.mark.parametrize("username", ["th-amr.liaison", "admin"])
def test_no_operation_answers_a_server_error(server: str, username: str) -> None:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "schemathesis"), "run", f"{server}/openapi.json",
         "--checks", "not_a_server_error", "--max-examples", "15", "--seed", "7", "--request-timeout", "20",
         "--exclude-path", "/api/v1/auth/logout",  # it would revoke the very token the run uses
         "--header", f"Authorization: Bearer {token(server, username)}"],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
