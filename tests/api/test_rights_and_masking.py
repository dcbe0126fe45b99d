"""Over HTTP, on SQLite and PostgreSQL: who may act on a task, what handing a task over reveals, and
which of the complainant's personal data each involved agency sees as the complaint moves."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from agencies.masking import mask_id_number
from agencies.tables import Agency, User
from tests.api.conftest import Api
from tests.workflows.scenario import CONSENTED, ID_NUMBER

PHONE, EMAIL = "13812345678", "zhangsan@example.com"
WHOLE = {"complainant_id_number": ID_NUMBER, "complainant_phone": PHONE, "complainant_email": EMAIL}
CONTACT = {**WHOLE, "complainant_id_number": mask_id_number(ID_NUMBER)}
MASKED = {"complainant_id_number": "341222********2112", "complainant_phone": "138****5678",
          "complainant_email": "z****@example.com"}


def seen(api: Api, user: str, complaint_id: int) -> dict[str, Any]:
    response = api.get(f"/api/v1/complaints/{complaint_id}", user)
    assert response.status_code == 200, response.text
    return {key: response.json()[key] for key in WHOLE}


def seen_by_agency(api: Api, agency: str, complaint_id: int) -> dict[str, Any]:
    """What the agency's liaison sees, checked to be what its supervisor sees."""
    liaison = seen(api, f"{agency}.liaison", complaint_id)
    assert seen(api, f"{agency}.supervisor", complaint_id) == liaison
    return liaison


def listed_phone(api: Api, user: str, complaint_id: int) -> str:
    items = api.get("/api/v1/complaints", user).json()["items"]
    [row] = [item for item in items if item["id"] == complaint_id]
    return str(row["complainant_phone"])


def test_a_consumer_association_that_referred_a_complaint_sees_it_masked(api: Api) -> None:
    cid = api.submit("th-cca.liaison")["id"]
    assert seen_by_agency(api, "th-cca", cid) == CONTACT  # reviewing it: contact data, not the ID number
    assert seen_by_agency(api, "th-amr", cid) == WHOLE  # the competent regulator
    reason = f"涉及违法经营，投诉人身份证号 {ID_NUMBER}，电话 {PHONE}"
    api.act("th-cca.liaison", "association_review", cid, {"decision": "refer_to_regulator", "reason": reason})
    assert seen_by_agency(api, "th-cca", cid) == MASKED
    assert seen_by_agency(api, "th-amr", cid) == WHOLE
    detail = api.get(f"/api/v1/complaints/{cid}", "th-amr.liaison").json()
    assert detail["involved_agencies"] == {"th-amr": "competent", "th-cca": "transferred_from"}
    assert listed_phone(api, "th-amr.liaison", cid) == listed_phone(api, "th-cca.liaison", cid) == "138****5678"

    def reasons(user: str) -> list[str]:
        events = api.get(f"/api/v1/complaints/{cid}/events", user).json()
        return [e["details"]["data"]["reason"] for e in events if e["action"] == "task.completed"]

    assert reasons("th-amr.supervisor") == [reason]
    assert reasons("th-cca.supervisor") == ["涉及违法经营，投诉人身份证号 341222********2112，电话 138****5678"]


def test_an_association_entrusted_with_a_complaint_it_had_referred_mediates_it_again(api: Api) -> None:
    cid = api.submit("th-cca.liaison")["id"]
    api.act("th-cca.liaison", "association_review", cid, {"decision": "refer_to_regulator", "reason": "涉及违法经营"})
    assert seen_by_agency(api, "th-cca", cid) == MASKED
    api.act("th-amr.liaison", "review", cid, {"decision": "accept"})
    api.act("th-amr.liaison", "arrange_mediation", cid,
            {**CONSENTED, "mediator": "consumer_association", "mediator_agency": "th-cca"})
    assert seen_by_agency(api, "th-cca", cid) == CONTACT
    assert api.get(f"/api/v1/complaints/{cid}", "th-cca.liaison").json()["involved_agencies"] == {
        "th-amr": "competent", "th-cca": "handler"}


def test_a_regulator_that_transferred_a_complaint_sees_it_masked_and_the_new_one_whole(api: Api) -> None:
    cid = api.submit()["id"]
    assert seen_by_agency(api, "th-amr", cid) == WHOLE
    api.act("th-amr.liaison", "review", cid,
            {"decision": "transfer", "reason": "经营地在临泉", "transfer_to": "lq-amr"})
    detail = api.get(f"/api/v1/complaints/{cid}", "lq-amr.liaison").json()
    assert detail["competent_agency"] == "lq-amr"
    assert detail["involved_agencies"] == {"th-amr": "transferred_from", "lq-amr": "competent"}
    assert seen_by_agency(api, "lq-amr", cid) == WHOLE
    assert seen_by_agency(api, "th-amr", cid) == MASKED


def test_a_regulator_that_only_registered_a_complaint_for_another_region_sees_it_masked(api: Api) -> None:
    cid = api.submit(business={"name": "临泉县某商行", "region_code": "341221"})["id"]
    assert seen_by_agency(api, "lq-amr", cid) == WHOLE
    assert seen_by_agency(api, "th-amr", cid) == MASKED


@pytest.mark.parametrize("how", ["entrusted", "own_intake"])
def test_a_mediator_sees_how_to_reach_the_complainant_but_not_the_id_number(api: Api, how: str) -> None:
    if how == "entrusted":
        cid = api.submit()["id"]
        api.act("th-amr.liaison", "review", cid, {"decision": "accept"})
        api.act("th-amr.liaison", "arrange_mediation", cid,
                {**CONSENTED, "mediator": "consumer_association", "mediator_agency": "th-cca"})
    else:
        cid = api.submit("th-cca.liaison")["id"]
        api.act("th-cca.liaison", "association_review", cid, {"decision": "accept"})
    assert api.task("th-cca.liaison", "association_mediate", cid)
    assert seen_by_agency(api, "th-cca", cid) == CONTACT
    assert seen_by_agency(api, "th-amr", cid) == WHOLE
    api.act("th-cca.liaison", "association_mediate", cid,
            {"outcome": "agreement", "summary": "达成一致", "agreement_text": "退款", "violation_found": False})
    assert seen_by_agency(api, "th-cca", cid) == CONTACT  # mediated it: still its complaint
    assert listed_phone(api, "th-cca.liaison", cid) == "138****5678"


def test_transferring_to_ones_own_agency_is_refused(api: Api) -> None:
    cid = api.submit()["id"]
    task = api.task("th-amr.liaison", "review", cid)
    assert api.post(f"/api/v1/tasks/{task['id']}/claim", "th-amr.liaison").status_code == 204
    response = api.post(f"/api/v1/tasks/{task['id']}/complete", "th-amr.liaison",
                        json={"data": {"decision": "transfer", "reason": "转", "transfer_to": "th-amr"}})
    assert (response.status_code, response.json()) == (422, {"detail": [
        {"field": "data.transfer_to", "message": "不能填写本单位（th-amr）/ must not be your own agency"}]})
    assert api.task("th-amr.liaison", "review", cid)["id"] == task["id"]
    assert api.get(f"/api/v1/complaints/{cid}/events", "th-amr.liaison").json()[-1]["action"] == "task.claimed"


def test_a_suspended_task_must_be_resumed_before_it_is_completed(api: Api) -> None:
    cid = api.submit()["id"]
    task = api.task("th-amr.liaison", "review", cid)["id"]
    assert api.post(f"/api/v1/tasks/{task}/suspend", "th-amr.liaison", json={"reason": "送检"}).status_code == 200
    assert api.post(f"/api/v1/tasks/{task}/claim", "th-amr.liaison").status_code == 204
    refused = api.post(f"/api/v1/tasks/{task}/complete", "th-amr.liaison", json={"data": {"decision": "accept"}})
    assert refused.status_code == 409 and refused.json()["detail"].startswith("任务已中止计时，请先恢复")
    assert api.post(f"/api/v1/tasks/{task}/resume", "th-amr.liaison", json={"reason": "报告已出"}).status_code == 200
    done = api.post(f"/api/v1/tasks/{task}/complete", "th-amr.liaison", json={"data": {"decision": "accept"}})
    assert done.status_code == 200, done.text


def test_only_the_assignee_or_a_supervisor_stops_a_claimed_tasks_clock(api: Api) -> None:
    cid = api.submit()["id"]
    task = api.task("th-amr.liaison", "review", cid)["id"]
    assert api.post(f"/api/v1/tasks/{task}/claim", "th-amr.supervisor").status_code == 204
    refused = api.post(f"/api/v1/tasks/{task}/suspend", "th-amr.liaison", json={"reason": "送检"})
    assert refused.status_code == 403 and "th-amr.supervisor" in refused.json()["detail"]
    assert api.task("th-amr.liaison", "review", cid)["suspended"] is False
    assert api.post(f"/api/v1/tasks/{task}/suspend", "th-amr.supervisor", json={"reason": "送检"}).status_code == 200


def test_handing_a_task_over_tells_nobody_which_usernames_exist(api: Api) -> None:
    with api.scenario.product.uow() as uow:
        th_amr = uow.session.scalar(select(Agency.id).where(Agency.code == "th-amr"))
        uow.session.add(User(username="th-amr.former", display_name="离职联络员", password_hash="-", agency_id=th_amr,
                             roles=["liaison"], active=False, created_at=api.scenario.clock.now()))
        uow.commit()
    cid = api.submit()["id"]
    task = api.task("th-amr.liaison", "review", cid)["id"]
    targets = ["no-such-user", "th-amr.former", "lq-amr.liaison", "th-amr.supervisor"]

    def answers(user: str, names: list[str]) -> list[tuple[int, Any]]:
        return [(r.status_code, r.json()) for r in (
            api.post(f"/api/v1/tasks/{task}/assign", user, json={"username": name}) for name in names)]

    # a liaison who neither holds the task nor supervises: the same refusal whoever is named
    [first, *rest] = answers("th-amr.liaison", targets)
    assert first[0] == 403 and rest == [first] * 3
    # a supervisor: unknown, inactive and another agency's user are one and the same "cannot work it"
    [first, *rest] = answers("th-amr.supervisor", targets[:3])
    assert first == (422, {"detail": [{"field": "username", "message": "该用户不能办理此任务 / this user cannot "
                                                                      "work this task"}]})
    assert rest == [first] * 2
    assert api.task("th-amr.liaison", "review", cid)["assignee"] is None
    handed = api.post(f"/api/v1/tasks/{task}/assign", "th-amr.supervisor", json={"username": "th-amr.liaison"})
    assert handed.status_code == 204
    assert api.task("th-amr.liaison", "review", cid)["assignee"] == "th-amr.liaison"
