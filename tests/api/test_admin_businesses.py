"""Administrators list, add and change businesses over HTTP: every change audited, every refusal in Chinese,
nobody else let in."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from agencies.tables import Complaint
from engine.db.tables import AuditEvent
from tests.agencies.factories import credit_code, wrong_check_digit
from tests.api.conftest import Api

DEMO_USCC = "91341222MA2N0Y7K3G"
NEW_USCC = credit_code("91341221MA2RQ3L21")
PATH = "/api/v1/admin/businesses"


def _audit(api: Api, action: str) -> list[dict[str, Any]]:
    with api.scenario.product.reader() as uow:
        return [{"actor": e.actor, **e.details} for e in uow.session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))]


def test_the_admin_lists_and_searches_businesses(api: Api) -> None:
    api.submit(business={"name": "临泉县好运超市", "region_code": "341221"})
    api.submit()  # 太和县某某电器商行
    everything = api.get(PATH, "admin").json()
    assert everything["total"] == 3  # the demo business and the two the complaints named
    names = ["太和县诚信家电有限公司", "太和县某某电器商行", "临泉县好运超市"]
    assert [b["name"] for b in everything["items"]] == sorted(names)
    assert api.get(PATH, "admin", params={"limit": 1, "offset": 1}).json()["items"] == everything["items"][1:2]
    by_name = api.get(PATH, "admin", params={"q": "好运"}).json()
    assert [(b["name"], b["uscc"], b["region_code"], b["odr"]) for b in by_name["items"]] == [
        ("临泉县好运超市", None, "341221", False)]
    by_uscc = api.get(PATH, "admin", params={"q": DEMO_USCC[:10].lower()}).json()
    assert [(b["name"], b["odr"]) for b in by_uscc["items"]] == [("太和县诚信家电有限公司", True)]
    enrolled = api.get(PATH, "admin", params={"odr": "true"}).json()
    assert [b["uscc"] for b in enrolled["items"]] == [DEMO_USCC]
    assert api.get(PATH, "admin", params={"q": "100%"}).json()["total"] == 0


def test_the_admin_adds_a_business_and_enrols_it(api: Api) -> None:
    created = api.post(PATH, "admin", json={"name": "临泉县诚信电器有限公司", "region_code": "341221",
                                            "uscc": NEW_USCC.lower(), "address": "临泉县城关镇"})
    assert created.status_code == 201, created.text
    business = created.json()
    assert (business["uscc"], business["odr"], business["created_at"]) == (NEW_USCC, False, "2026-11-18T09:30:00+08:00")
    assert _audit(api, "business.created") == [{"actor": "admin", "after": {
        "id": business["id"], "uscc": NEW_USCC, "name": "临泉县诚信电器有限公司", "region_code": "341221",
        "address": "临泉县城关镇", "odr": False}}]
    changed = api.client.patch(f"{PATH}/{business['id']}", headers=api.headers("admin"),
                               json={"odr": True, "address": None})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["odr"], changed.json()["address"], changed.json()["name"]) == (
        True, None, "临泉县诚信电器有限公司")
    [event] = _audit(api, "business.changed")
    assert (event["before"]["odr"], event["after"]["odr"], event["before"]["address"], event["after"]["address"]) == (
        False, True, "临泉县城关镇", None)
    # a complaint giving that USCC now reaches the enrolled business
    complaint = api.submit(business={"name": "诚信电器", "region_code": "341221", "uscc": NEW_USCC})
    with api.scenario.product.reader() as uow:
        stored = uow.session.get(Complaint, complaint["id"])
        assert stored is not None and stored.business_id == business["id"]


def test_refusals_are_in_chinese(api: Api) -> None:
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"name": "某店", "region_code": "341222", "uscc": wrong_check_digit(NEW_USCC)}, "uscc",
         "统一社会信用代码校验位错误"),
        ({"name": "某店", "region_code": "341222", "uscc": "9134"}, "uscc", "统一社会信用代码应为18位"),
        ({"name": "某店", "region_code": "341299"}, "region_code", "行政区划代码不存在"),
        ({"name": "某店", "region_code": "3412"}, "region_code", "行政区划代码"),
        ({"region_code": "341222"}, "name", "名称"),
        ({"name": "某店", "region_code": "341222", "odr": "maybe"}, "odr", "是否参加在线纠纷解决"),
    ]
    for body, field, message in cases:
        response = api.post(PATH, "admin", json=body)
        assert response.status_code == 422, (body, response.text)
        [error] = response.json()["detail"]
        assert error["field"] == field and message in error["message"], (body, error)
    twin = api.post(PATH, "admin", json={"name": "太和县诚信家电", "region_code": "341222", "uscc": DEMO_USCC})
    assert twin.status_code == 409
    assert twin.json()["detail"].startswith("统一社会信用代码 91341222MA2N0Y7K3G 的经营者已存在")
    api.submit()  # 太和县某某电器商行, known by name only
    named = api.post(PATH, "admin", json={"name": "太和县某某电器商行", "region_code": "341222"})
    assert named.status_code == 409 and "已有名为“太和县某某电器商行”的经营者" in named.json()["detail"]
    missing = api.client.patch(f"{PATH}/999999", headers=api.headers("admin"), json={"odr": True})
    assert missing.status_code == 404 and missing.json()["detail"].startswith("未找到")
    assert _audit(api, "business.created") == [] and _audit(api, "business.changed") == []


def test_only_admins_manage_businesses(api: Api) -> None:
    for user in ("th-amr.supervisor", "th-cxjd.staff"):
        assert api.get(PATH, user).status_code == 403
        response = api.post(PATH, user, json={"name": "某店", "region_code": "341222"})
        assert response.status_code == 403 and response.json()["detail"] == "需要管理员权限 / admin only"
        assert api.client.patch(f"{PATH}/1", headers=api.headers(user), json={"odr": True}).status_code == 403
    assert api.get(PATH, None).status_code == 401
    assert _audit(api, "business.created") == []
