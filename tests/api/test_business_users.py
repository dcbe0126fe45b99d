"""Administrators give a business its own users over HTTP (role ``business``, enrolled business or not): a
chosen password under the staff policy or a random one answered once, the list with the business's
enrolment, refusals in Chinese naming the field, deactivation through the users' endpoint, every change
audited; nobody else let in, and ``/api/v1/users`` still makes no business user."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from agencies.passwords import verify_password
from agencies.repository import get_user
from engine.db.tables import AuditEvent
from tests.api.conftest import PASSWORD, Api

PATH = "/api/v1/admin/businesses"
DEMO_USCC = "91341222MA2N0Y7K3G"


def _audit(api: Api, action: str) -> list[dict[str, Any]]:
    with api.scenario.product.reader() as uow:
        return [{"actor": e.actor, **e.details} for e in uow.session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))]


def _demo_business(api: Api) -> int:
    [business] = api.get(PATH, "admin", params={"q": DEMO_USCC}).json()["items"]
    return int(business["id"])


def _unenrolled_business(api: Api) -> int:
    created = api.post(PATH, "admin", json={"name": "临泉县好运超市", "region_code": "341221"})
    assert created.status_code == 201, created.text
    return int(created.json()["id"])


def _token(api: Api, username: str, password: str) -> Any:
    return api.client.post("/api/v1/auth/token", data={"username": username, "password": password})


def test_the_admin_creates_and_lists_business_users(api: Api) -> None:
    demo = _demo_business(api)
    chosen = api.post(f"{PATH}/{demo}/users", "admin",
                      json={"username": "th-cxjd.clerk", "display_name": "诚信家电 王会计", "password": PASSWORD})
    assert chosen.status_code == 201, chosen.text
    body = chosen.json()
    assert (body["username"], body["roles"], body["business_id"], body["odr"], body["active"], body["password"]) == (
        "th-cxjd.clerk", ["business"], demo, True, True, None)
    # the new user signs in and sees the business's complaints, as the demo's own user does
    token = _token(api, "th-cxjd.clerk", PASSWORD)
    assert token.status_code == 200, token.text
    me = api.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"}).json()
    assert me["roles"] == ["business"] and me["agency"] is None

    # without a password one is drawn, answered once and stored only as its hash
    other = _unenrolled_business(api)
    drawn = api.post(f"{PATH}/{other}/users", "admin", json={"username": "lq-hy.owner", "display_name": "好运 李老板"})
    assert drawn.status_code == 201, drawn.text
    password = drawn.json()["password"]
    assert isinstance(password, str) and len(password) >= 12 and drawn.json()["odr"] is False
    with api.scenario.product.reader() as uow:
        stored = get_user(uow.session, "lq-hy.owner")
        assert stored is not None and stored.business_id == other and stored.agency_id is None
        assert password not in stored.password_hash and verify_password(password, stored.password_hash)
    assert _token(api, "lq-hy.owner", password).status_code == 200

    listed = api.get(f"{PATH}/{demo}/users", "admin").json()
    assert (listed["business_id"], listed["business_name"], listed["odr"], listed["total"]) == (
        demo, "太和县诚信家电有限公司", True, 2)
    assert [(u["username"], u["active"]) for u in listed["items"]] == [("th-cxjd.clerk", True),
                                                                       ("th-cxjd.staff", True)]
    assert "password" not in listed["items"][0]
    unenrolled = api.get(f"{PATH}/{other}/users", "admin").json()
    assert (unenrolled["odr"], [u["username"] for u in unenrolled["items"]]) == (False, ["lq-hy.owner"])

    created = _audit(api, "user.created")
    assert created == [
        {"actor": "admin", "after": {"username": "th-cxjd.clerk", "display_name": "诚信家电 王会计",
                                     "roles": ["business"], "business": demo, "active": True,
                                     "password_drawn": False}},
        {"actor": "admin", "after": {"username": "lq-hy.owner", "display_name": "好运 李老板", "roles": ["business"],
                                     "business": other, "active": True, "password_drawn": True}}]
    assert password not in str(created)


def test_business_users_are_deactivated_through_the_users_endpoint(api: Api) -> None:
    demo = _demo_business(api)
    headers = api.headers("th-cxjd.staff")
    assert api.client.get("/api/v1/me", headers=headers).status_code == 200
    off = api.client.patch("/api/v1/users/th-cxjd.staff", headers=api.headers("admin"), json={"active": False})
    assert off.status_code == 200 and off.json()["active"] is False
    assert api.client.get("/api/v1/me", headers=headers).status_code == 401  # its token ended at once
    assert [u["active"] for u in api.get(f"{PATH}/{demo}/users", "admin").json()["items"]] == [False]
    on = api.client.patch("/api/v1/users/th-cxjd.staff", headers=api.headers("admin"), json={"active": True})
    assert on.status_code == 200 and _token(api, "th-cxjd.staff", PASSWORD).status_code == 200
    assert [(e["before"]["active"], e["after"]["active"]) for e in _audit(api, "user.changed")] == [
        (True, False), (False, True)]


def test_refusals_name_the_field_in_chinese(api: Api) -> None:
    demo = _demo_business(api)
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"username": "Th CXJD", "display_name": "某人"}, "username", "用户名"),
        ({"username": "th-cxjd.clerk"}, "display_name", "姓名"),
        ({"username": "th-cxjd.clerk", "display_name": "某人", "password": "short"}, "password",
         "密码至少需要 12 个字符"),
        ({"username": "th-cxjd.clerk", "display_name": "某人", "password": "th-cxjd.clerk-2026!"}, "password",
         "密码不能包含用户名"),
        ({"username": "th-cxjd.clerk", "display_name": "某人", "password": "password1234"}, "password",
         "密码过于简单"),
        ({"username": "th-cxjd.clerk", "display_name": "某人", "roles": ["admin"]}, "roles", "不支持的字段：角色"),
    ]
    for body, field, message in cases:
        response = api.post(f"{PATH}/{demo}/users", "admin", json=body)
        assert response.status_code == 422, (body, response.text)
        [error] = response.json()["detail"]
        assert error["field"] == field and message in error["message"], (body, error)
    taken = api.post(f"{PATH}/{demo}/users", "admin", json={"username": "th-amr.liaison", "display_name": "某人"})
    assert taken.status_code == 409 and taken.json()["detail"].startswith("用户名 th-amr.liaison 已存在")
    missing = api.post(f"{PATH}/999999/users", "admin", json={"username": "nobody.x", "display_name": "某人"})
    assert missing.status_code == 404 and missing.json()["detail"].startswith("未找到")
    assert api.get(f"{PATH}/999999/users", "admin").status_code == 404
    assert _audit(api, "user.created") == []
    assert [u["username"] for u in api.get(f"{PATH}/{demo}/users", "admin").json()["items"]] == ["th-cxjd.staff"]


def test_only_admins_manage_business_users(api: Api) -> None:
    demo = _demo_business(api)
    for user in ("th-amr.supervisor", "th-cxjd.staff"):
        assert api.get(f"{PATH}/{demo}/users", user).status_code == 403
        response = api.post(f"{PATH}/{demo}/users", user, json={"username": "th-cxjd.x", "display_name": "某人"})
        assert response.status_code == 403 and response.json()["detail"] == "需要管理员权限 / admin only"
    assert api.get(f"{PATH}/{demo}/users", None).status_code == 401
    assert _audit(api, "user.created") == []


def test_the_users_endpoint_refuses_the_business_role(api: Api) -> None:
    body = {"username": "th-cxjd.clerk", "display_name": "某人", "password": PASSWORD, "roles": ["business"]}
    for method, path, sent in (("POST", "/api/v1/users", body),
                               ("PATCH", "/api/v1/users/th-amr.liaison", {"roles": ["business"]})):
        response = api.client.request(method, path, headers=api.headers("admin"), json=sent)
        assert response.status_code == 422, response.text
        [error] = response.json()["detail"]
        assert error["field"] == "roles"
        assert error["message"].startswith("经营者账号（角色 business）请通过 POST /api/v1/admin/businesses/{id}/users")
    with api.scenario.product.reader() as uow:
        assert get_user(uow.session, "th-cxjd.clerk") is None
