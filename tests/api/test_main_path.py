"""The main reference path, as the demo users, through the API only: create → inbox → … → case filed."""

from __future__ import annotations

import re

from tests.api.conftest import Api
from tests.workflows.scenario import CONSENTED


def test_complaint_to_case_via_the_api(api: Api) -> None:
    created = api.submit()
    cid = created["id"]
    assert created["status"] == "pending_acceptance" and created["tracking_code"]

    inbox = api.get("/api/v1/tasks", "th-amr.liaison").json()
    assert [t["task_name"] for t in inbox["items"]] == ["review"] and inbox["total"] == 1
    review = inbox["items"][0]
    assert review["due_at"] == "2026-11-27T23:59:59+08:00" and review["provisional"] is False
    detail = api.get(f"/api/v1/tasks/{review['id']}", "th-amr.liaison").json()
    assert "decision" in detail["form"]["properties"] and detail["data"]["complaint_id"] == cid

    assert api.act("th-amr.liaison", "review", cid, {"decision": "accept"})["next_tasks"][0]["task_name"] \
        == "arrange_mediation"
    api.act("th-amr.liaison", "arrange_mediation", cid, {**CONSENTED, "mediator": "self"})
    result = api.act("th-amr.liaison", "mediate", cid, {
        "outcome": "agreement", "summary": "达成一致", "agreement_text": "退款 3299 元", "violation_found": True,
        "violation_description": "销售不合格空调"})
    assert sorted(t["task_name"] for t in result["next_tasks"]) == ["close", "verify_clue"]
    api.act("th-amr.liaison", "verify_clue", cid, {"decision": "file", "reason": "证据充分"})
    api.act("th-amr.supervisor", "decide_filing", cid, {"decision": "file", "reason": "同意立案"})  # the head files

    [case] = api.get("/api/v1/cases", "th-amr.liaison").json()
    assert re.fullmatch(r"太市监诉转案〔2026〕\d+号", case["case_no"]) and case["status"] == "filed"
    assert api.get(f"/api/v1/cases/{case['id']}", "lq-amr.liaison").status_code == 404

    complaint = api.get(f"/api/v1/complaints/{cid}", "th-amr.liaison").json()
    assert complaint["complainant_phone"] == "13812345678"  # whole for the handling agency
    assert {t["task_name"] for t in complaint["current_tasks"]} == {"close", "investigate"}
    listed = api.get("/api/v1/complaints", "th-amr.liaison").json()["items"][0]
    assert listed["complainant_phone"] == "138****5678"  # masked in lists
    events = [e["action"] for e in api.get(f"/api/v1/complaints/{cid}/events", "th-amr.liaison").json()]
    assert events.count("task.completed") == 5 and "task.claimed" in events

    public = api.client.get(f"/api/v1/public/complaints/{created['tracking_no']}",
                            params={"code": created["tracking_code"]})
    assert public.status_code == 200 and set(public.json()) == {
        "tracking_no", "kind", "status", "received_at", "updated_at", "kind_label", "stage", "status_label",
        "handling_agency", "next_step", "next_due_at", "history", "pending_offer"}
    wrong = api.client.get(f"/api/v1/public/complaints/{created['tracking_no']}", params={"code": "AAAAAAAA"})
    assert wrong.status_code == 404


def test_public_intake_is_routed_by_region(api: Api) -> None:
    response = api.client.post("/api/v1/public/complaints", json={
        **__import__("tests.workflows.scenario", fromlist=["complaint_body"]).complaint_body(),
        "business": {"name": "临泉某超市", "region_code": "341221"}})
    assert response.status_code == 201, response.text
    assert [t["task_name"] for t in api.get("/api/v1/tasks", "lq-amr.liaison").json()["items"]] == ["review"]


def test_logout_revokes_the_token_and_failed_logins_are_limited(api: Api) -> None:
    headers = api.headers("th-cca.liaison")
    assert api.client.get("/api/v1/me", headers=headers).json()["agency"]["code"] == "th-cca"
    assert api.client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    assert api.client.get("/api/v1/me", headers=headers).status_code == 401
    statuses = [api.client.post("/api/v1/auth/token", data={"username": "th-pmc.liaison", "password": "wrong"})
                .status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429]


def test_suspend_and_resume_move_the_deadline(api: Api) -> None:
    cid = api.submit()["id"]
    task = api.task("th-amr.liaison", "review", cid)
    api.travel(api.scenario.clock.now().replace(day=23, hour=10))
    suspended = api.post(f"/api/v1/tasks/{task['id']}/suspend", "th-amr.liaison", json={"reason": "送检"})
    assert suspended.status_code == 200, suspended.text
    assert suspended.json()[
        "suspended"] is True
    api.travel(api.scenario.clock.now().replace(day=25))
    resumed = api.post(f"/api/v1/tasks/{task['id']}/resume", "th-amr.liaison", json={"reason": "报告已出"}).json()
    assert resumed["due_at"] == "2026-12-01T23:59:59+08:00" and resumed["suspended"] is False


def test_calendar_due(api: Api) -> None:
    response = api.get("/api/v1/calendar/due", "th-amr.liaison",
                       params={"start": "2026-11-18T10:00:00+08:00", "period": "7wd"})
    assert response.json() == {"start": "2026-11-18T10:00:00+08:00", "period": "7wd",
                               "due_at": "2026-11-27T23:59:59+08:00", "last_day": "2026-11-27", "provisional": False}
    late = api.get("/api/v1/calendar/due", "th-amr.liaison",
                   params={"start": "2026-12-28T10:00:00+08:00", "period": "7wd"}).json()
    assert late["provisional"] is True
