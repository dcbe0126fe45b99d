"""``GET /api/v1/tasks`` lists only the tasks the caller's roles may work: a liaison is never shown the
supervisor's extension approval only to be refused it; the supervisor sees the whole agency's work."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import Api


def extension_requested(api: Api) -> int:
    """A report whose clue verification (enforcement lane) asked for more time: an approval task for the
    supervisor (supervisor lane) is open, beside an ordinary review (liaison lane)."""
    report = api.submit(kind="report")
    api.act("th-amr.liaison", "verify_clue", report["id"], {"decision": "extend", "reason": "需要调取外地证据"})
    api.submit()
    return int(report["id"])


def names(api: Api, user: str, **params: Any) -> tuple[list[str], int]:
    response = api.get("/api/v1/tasks", user, params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    return sorted(t["task_name"] for t in body["items"]), body["total"]


def test_a_liaison_is_not_shown_the_supervisors_approval(api: Api) -> None:
    report = extension_requested(api)
    # th-amr.liaison holds the liaison and enforcement roles; approve_extension sits in the supervisor lane
    assert names(api, "th-amr.liaison") == (["review"], 1)
    assert names(api, "th-amr.liaison", complaint_id=report) == ([], 0)
    assert names(api, "th-amr.liaison", assignee="unassigned") == (["review"], 1)
    everything = api.get("/api/v1/tasks", "th-amr.supervisor").json()
    assert sorted(t["task_name"] for t in everything["items"]) == ["approve_extension", "review"]
    assert everything["total"] == 2
    [approval] = [t for t in everything["items"] if t["task_name"] == "approve_extension"]
    assert approval["lane"] == "supervisor"
    # what the list left out is indeed refused to the liaison, and the supervisor may take it
    assert api.post(f"/api/v1/tasks/{approval['id']}/claim", "th-amr.liaison").status_code == 403
    assert api.post(f"/api/v1/tasks/{approval['id']}/claim", "th-amr.supervisor").status_code == 204


def test_every_task_a_liaison_is_shown_is_one_they_may_claim(api: Api) -> None:
    report = extension_requested(api)
    api.act("th-amr.supervisor", "approve_extension", report, {"approved": True})
    listed = api.get("/api/v1/tasks", "th-amr.liaison").json()["items"]
    assert sorted(t["task_name"] for t in listed) == ["review", "verify_clue"]  # the clue is back, enforcement lane
    for task in listed:
        assert api.post(f"/api/v1/tasks/{task['id']}/claim", "th-amr.liaison").status_code == 204, task
