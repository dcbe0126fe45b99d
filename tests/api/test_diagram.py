"""Over HTTP, on SQLite and PostgreSQL: a complaint's diagram with its live state for the agencies involved
(404 for anyone else), the same answer for the pages' cookie session; and the complaint search finding a
complaint by the complainant's phone number."""

from __future__ import annotations

from tests.api.conftest import Api
from tests.workflows.scenario import CONSENTED, complaint_body

PHONE = complaint_body()["complainant"]["phone"]
LINQUAN_BUSINESS = {"name": "临泉县某某超市", "region_code": "341221"}


def diagram(api: Api, user: str | None, complaint_id: int, expected: int = 200) -> dict:  # type: ignore[type-arg]
    response = api.get(f"/api/v1/complaints/{complaint_id}/diagram", user)
    assert response.status_code == expected, response.text
    return dict(response.json())


def test_the_diagram_shows_the_path_the_open_task_and_the_mediation_timer(api: Api) -> None:
    cid = api.submit()["id"]
    fresh = diagram(api, "th-amr.liaison", cid)
    assert fresh["current"] == ["review"] and fresh["timers"] == [] and fresh["suspended"] == []
    assert fresh["bpmn_xml"].startswith("<?xml") and 'bpmnElement="review"' in fresh["bpmn_xml"]
    assert (fresh["spec_key"], fresh["spec_version"]) == ("complaint_handling", 1)

    api.act("th-amr.liaison", "review", cid, {"decision": "accept"})
    api.act("th-amr.liaison", "arrange_mediation", cid,
            {**CONSENTED, "mediator": "consumer_association", "mediator_agency": "th-cca"})
    for user in ("th-amr.liaison", "th-cca.supervisor"):  # the regulator and the entrusted association
        state = diagram(api, user, cid)
        assert {"review", "arrange_mediation", "start_association"} <= set(state["completed"])
        assert set(state["current"]) == {"catch_association_result", "association_mediate",
                                         "association_mediate_deadline"}
        assert state["timers"] == [{"element_id": "association_mediate_deadline",
                                    "due_at": "2027-01-18T23:59:59+08:00", "rule": "mediation", "label": "调解期限"}]


def test_a_task_whose_clock_is_stopped_is_marked_suspended(api: Api) -> None:
    cid = api.submit()["id"]
    review = api.task("th-amr.liaison", "review", cid)
    response = api.post(f"/api/v1/tasks/{review['id']}/suspend", "th-amr.liaison", json={"reason": "等待检测报告"})
    assert response.status_code in (200, 204), response.text
    state = diagram(api, "th-amr.supervisor", cid)
    assert (state["current"], state["suspended"]) == (["review"], ["review"])


def test_another_agency_gets_404_and_no_token_401(api: Api) -> None:
    cid = api.submit()["id"]
    refused = diagram(api, "lq-amr.liaison", cid, 404)
    assert diagram(api, "th-amr.liaison", 999_999, 404) == refused  # exactly like a missing complaint
    diagram(api, "th-pmc.liaison", cid, 404)
    diagram(api, None, cid, 401)


def test_search_finds_a_complaint_by_the_complainants_phone(api: Api) -> None:
    mine = api.submit()
    other = api.submit(complainant={**complaint_body()["complainant"], "phone": "13912345678"})
    api.scenario.submit(received_by=None, business=LINQUAN_BUSINESS)  # Linquan's, same phone: not listed

    def found(q: str, user: str = "th-amr.liaison") -> list[str]:
        response = api.get("/api/v1/complaints", user, params={"q": q})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["total"] == len(body["items"])
        return [item["tracking_no"] for item in body["items"]]

    assert found(PHONE) == [mine["tracking_no"]]
    assert found("138 1234 5678") == [mine["tracking_no"]]
    assert found("+8613912345678") == [other["tracking_no"]]
    assert found(PHONE[:7]) == [n for n in (other["tracking_no"], mine["tracking_no"]) if PHONE[:7] in n]
    assert found("空调") == [other["tracking_no"], mine["tracking_no"]]
    assert found("_") == [] and found("%") == []  # LIKE wildcards are searched for as characters
    [item] = api.get("/api/v1/complaints", "th-amr.liaison", params={"q": PHONE}).json()["items"]
    assert item["complainant_phone"] == "138****5678"  # found by it, still masked in the list
