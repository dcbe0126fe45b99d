"""Online dispute resolution through the API alone: a complaint against the enrolled th-cxjd reaches
th-cxjd.staff first, the staff offers a refund, the complainant accepts by tracking number and code, the
complaint is settled and both parties are told. Any other business's complaint goes to the regulator."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import Api
from tests.workflows.scenario import BUSINESS_USER, ODR_BUSINESS, complaint_body

OFFER = {"response": "settle", "offer": "退货并全额退款 3299 元", "explanation": "经检测属产品质量问题"}


def public_submit(api: Api, **overrides: Any) -> dict[str, Any]:
    body = complaint_body(**overrides)
    response = api.post("/api/v1/public/complaints", None, json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def status_of(api: Api, created: dict[str, Any]) -> dict[str, Any]:
    response = api.get(f"/api/v1/public/complaints/{created['tracking_no']}", None,
                       params={"code": created["tracking_code"]})
    assert response.status_code == 200, response.text
    return dict(response.json())


def decide(api: Api, created: dict[str, Any], body: Any, code: str | None = None) -> Any:
    return api.post(f"/api/v1/public/complaints/{created['tracking_no']}/decision", None,
                    params={"code": code or created["tracking_code"]}, json=body)


def test_the_business_settles_and_the_complainant_accepts_on_the_tracking_api(api: Api) -> None:
    created = public_submit(api, business=ODR_BUSINESS)
    assert status_of(api, created)["status_label"] == "协商和解中"
    # the business's user sees the task first; the regulator sees nothing yet
    [task] = api.get("/api/v1/tasks", BUSINESS_USER).json()["items"]
    assert (task["task_name"], task["title"]) == ("business_respond", "经营者答复")
    assert api.get("/api/v1/tasks", "th-amr.liaison", params={"complaint_id": created["id"]}).json()["items"] == []
    detail = api.get(f"/api/v1/tasks/{task['id']}", BUSINESS_USER).json()
    assert detail["form"]["properties"]["offer"]["title"] == "和解方案"

    api.act(BUSINESS_USER, "business_respond", created["id"], OFFER)
    shown = status_of(api, created)
    assert shown["pending_offer"]["offer"] == OFFER["offer"]
    assert shown["pending_offer"]["answer_by"].startswith("2026-12-02T23:59:59")

    answered = decide(api, created, {"accept": True})
    assert answered.status_code == 200, answered.text
    settled = answered.json()
    assert (settled["status"], settled["status_label"], settled["pending_offer"]) == ("settled", "已和解", None)
    assert "已办结" in settled["next_step"] and settled["history"][-1]["label"] == "已和解"
    # both parties told: the complainant by e-mail (the outbox), the business in-app
    assert "settled" in api.scenario.notices(api.scenario.complaint(created["id"]))
    told = api.get("/api/v1/notifications", BUSINESS_USER).json()
    assert [n["subject"] for n in told][:2] == [f"投诉已和解（{created['tracking_no']}）",
                                                f"新投诉待您答复（{created['tracking_no']}）"]

    again = decide(api, created, {"accept": False})
    assert again.status_code == 409 and "没有待您确认的和解方案" in again.json()["detail"]


def test_declining_passes_the_complaint_to_the_regulator(api: Api) -> None:
    created = public_submit(api, business=ODR_BUSINESS)
    api.act(BUSINESS_USER, "business_respond", created["id"], OFFER)
    answered = decide(api, created, {"accept": False})
    assert answered.status_code == 200, answered.text
    assert answered.json()["status_label"] == "待受理"
    review = api.task("th-amr.liaison", "review", created["id"])
    assert review["due_at"].startswith("2026-11-27T23:59:59")  # 7 working days from the answer (the 18th)


def test_bad_answers_are_refused_clearly(api: Api) -> None:
    created = public_submit(api, business=ODR_BUSINESS)
    early = decide(api, created, {"accept": True})  # no offer yet
    assert early.status_code == 409
    api.act(BUSINESS_USER, "business_respond", created["id"], OFFER)
    wrong_code = decide(api, created, {"accept": True}, code="ABCDEFGH")
    assert wrong_code.status_code == 404
    for body, field in (({"accept": "也许"}, "是否接受"), ({}, "是否接受"), ({"accept": True, "extra": 1}, "extra")):
        refused = decide(api, created, body)
        assert refused.status_code == 422, body
        assert field in refused.json()["detail"][0]["message"], refused.text
    assert status_of(api, created)["pending_offer"] is not None  # nothing was lost


def test_a_complaint_against_any_other_business_goes_straight_to_the_regulator(api: Api) -> None:
    created = public_submit(api)
    assert status_of(api, created)["status_label"] == "待受理"
    assert api.task("th-amr.liaison", "review", created["id"])["task_name"] == "review"
    assert api.get("/api/v1/tasks", BUSINESS_USER).json()["items"] == []
