"""Every endpoint × every kind of demo user: the allowed succeed, the rest get 401/403/404.

Another agency's task, complaint, case or instance looks exactly like a missing one (same status, same body).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import Api
from tests.workflows.scenario import WORKFLOWS

USERS = [None, "th-amr.liaison", "th-amr.supervisor", "lq-amr.liaison", "th-cca.liaison", "admin"]
MISSING_TASK = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
def world(api: Api) -> dict[str, Any]:
    """A complaint at th-amr with an open review task, a deployed workflow to read."""
    created = api.submit()
    task = api.task("th-amr.liaison", "review", created["id"])
    return {"complaint": created["id"], "instance": created["process_instance_id"], "task": task["id"]}


def expected(user: str | None, allowed: set[str | None], hidden: int = 404) -> int:
    if user is None:
        return 401
    if user in allowed:
        return 200
    return 403 if user == "admin" or hidden == 403 else hidden


TH_AMR = {"th-amr.liaison", "th-amr.supervisor"}
STAFF = set(USERS) - {None, "admin"}
EVERYONE = set(USERS) - {None}

ENDPOINTS = [
    ("GET", "/api/v1/me", EVERYONE, 404),
    ("GET", "/api/v1/agencies", EVERYONE, 404),
    ("GET", "/api/v1/tasks", STAFF, 404),
    ("GET", "/api/v1/tasks/{task}", TH_AMR, 404),
    ("GET", "/api/v1/complaints", STAFF, 404),
    ("GET", "/api/v1/complaints/{complaint}", TH_AMR, 404),
    ("GET", "/api/v1/complaints/{complaint}/events", TH_AMR, 404),
    ("GET", "/api/v1/cases", STAFF, 404),
    ("GET", "/api/v1/process-instances/{instance}", TH_AMR | {"admin"}, 404),
    ("GET", "/api/v1/workflows", {"admin"}, 403),
    ("GET", "/api/v1/workflows/complaint_handling/versions/1/bpmn", EVERYONE, 404),
    ("GET", "/api/v1/notifications", EVERYONE, 404),
    ("GET", "/api/v1/calendar/due?start=2026-11-18T10:00:00%2B08:00&period=7wd", EVERYONE, 404),
]


@pytest.mark.parametrize("user", USERS, ids=lambda u: u or "anonymous")
def test_read_endpoints(api: Api, world: dict[str, Any], user: str | None) -> None:
    outcomes = {path: api.client.request(method, path.format(**world), headers=api.headers(user)).status_code
                for method, path, _allowed, _hidden in ENDPOINTS}
    assert outcomes == {path: expected(user, allowed, hidden) for _m, path, allowed, hidden in ENDPOINTS}


ACTIONS = [
    ("/api/v1/tasks/{task}/claim", None),
    ("/api/v1/tasks/{task}/release", None),
    ("/api/v1/tasks/{task}/assign", {"username": "th-amr.supervisor"}),
    ("/api/v1/tasks/{task}/suspend", {"reason": "送检"}),
    ("/api/v1/tasks/{task}/complete", {"data": {"decision": "accept"}}),
]


@pytest.mark.parametrize("user", [None, "lq-amr.liaison", "th-cca.liaison", "admin"], ids=lambda u: u or "anonymous")
def test_task_actions_are_refused_outside_the_agency_and_change_nothing(
        api: Api, world: dict[str, Any], user: str | None) -> None:
    outcomes = {path: api.post(path.format(**world), user, json=body).status_code for path, body in ACTIONS}
    assert outcomes == {path: {None: 401, "admin": 403}.get(user, 404) for path, _body in ACTIONS}
    assert api.task("th-amr.liaison", "review", world["complaint"])["assignee"] is None
    assert api.get(f"/api/v1/process-instances/{world['instance']}", "admin").json()["version"] == 1


def test_another_agencys_task_is_indistinguishable_from_a_missing_one(api: Api, world: dict[str, Any]) -> None:
    theirs = api.get(f"/api/v1/tasks/{world['task']}", "lq-amr.liaison")
    missing = api.get(f"/api/v1/tasks/{MISSING_TASK}", "lq-amr.liaison")
    assert (theirs.status_code, theirs.json()) == (missing.status_code, missing.json()) == (404, {
        "detail": "未找到 / not found"})
    completing = api.post(f"/api/v1/tasks/{world['task']}/complete", "lq-amr.liaison", json={"data": {}})
    assert completing.json() == missing.json()


def test_workflow_administration_is_for_admins(api: Api) -> None:
    xml = (WORKFLOWS / "case_conversion.bpmn").read_bytes()
    for user, status in [(None, 401), ("th-amr.supervisor", 403), ("admin", 200)]:
        response = api.client.post("/api/v1/workflows/validate", content=xml,
                                   headers={**api.headers(user), "Content-Type": "application/xml"})
        assert response.status_code == status
    assert api.post("/api/v1/workflows/case_conversion/versions/1/deploy", "th-amr.liaison").status_code == 403
    assert api.post("/api/v1/workflows/case_conversion/versions/1/deploy", "admin").status_code == 200


def test_a_supervisor_may_hand_a_task_to_a_colleague_and_a_liaison_must_then_wait(
        api: Api, world: dict[str, Any]) -> None:
    task = world["task"]
    assert api.post(f"/api/v1/tasks/{task}/assign", "th-amr.supervisor",
                    json={"username": "lq-amr.liaison"}).status_code == 422  # not of this agency
    assert api.post(f"/api/v1/tasks/{task}/assign", "th-amr.supervisor",
                    json={"username": "th-amr.liaison"}).status_code == 204
    assert api.post(f"/api/v1/tasks/{task}/assign", "th-amr.liaison",
                    json={"username": "th-amr.supervisor"}).status_code == 204  # the assignee hands it on
    assert api.post(f"/api/v1/tasks/{task}/complete", "th-amr.liaison",
                    json={"data": {"decision": "accept"}}).status_code == 403
