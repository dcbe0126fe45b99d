"""Every error a person may read is Chinese first (``中文 / English``): pydantic's validation errors name
the field by its Chinese label and say what is wrong, and 403, 404, 405 and 409 answers read Chinese
too. The machine-readable part stays as it was: ``detail`` is ``[{"field", "message"}]`` for a 422."""

from __future__ import annotations

from typing import Any

from agencies.input_messages import has_chinese
from tests.api.conftest import Api
from tests.workflows.scenario import complaint_body


def errors(response: Any) -> dict[str, str]:
    """``{field: message}`` of a 422, each message Chinese first."""
    assert response.status_code == 422, response.text
    found = {e["field"]: e["message"] for e in response.json()["detail"]}
    assert all(has_chinese(message.split(" / ", 1)[0]) for message in found.values()), found
    return found


def chinese_first(response: Any, status: int) -> str:
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, str) and has_chinese(detail.split(" / ", 1)[0]), detail
    return detail


def open_task(api: Api) -> str:
    cid = api.submit()["id"]
    return str(api.task("th-amr.liaison", "review", cid)["id"])


def test_a_missing_or_too_long_reason_is_named_in_chinese(api: Api) -> None:
    cid = api.submit()["id"]
    task = api.task("th-amr.liaison", "review", cid)["id"]
    missing = api.post(f"/api/v1/tasks/{task}/suspend", "th-amr.liaison", json={})
    assert missing.json() == {"detail": [{"field": "reason", "message": "理由不能为空 / Field required"}]}
    assert errors(api.post(f"/api/v1/tasks/{task}/suspend", "th-amr.liaison", json={"reason": "x" * 501})) == {
        "reason": "理由不能超过 500 个字 / String should have at most 500 characters"}
    assert errors(api.post(f"/api/v1/tasks/{task}/suspend", "th-amr.liaison", json={"reason": ""})) == {
        "reason": "理由不能为空 / String should have at least 1 character"}
    assert errors(api.post(f"/api/v1/tasks/{task}/suspend", "th-amr.liaison",
                           json={"reason": "送检", "colour": "red"})) == {
        "colour": "不支持的字段：“colour” / Extra inputs are not permitted"}
    assert api.task("th-amr.liaison", "review", cid)["suspended"] is False


def test_bad_numbers_name_the_parameter(api: Api) -> None:
    assert errors(api.get("/api/v1/cases", "th-amr.liaison", params={"limit": "many", "offset": "-1"})) == {
        "limit": "每页条数须为整数 / Input should be a valid integer, unable to parse string as an integer",
        "offset": "起始位置不能小于 0 / Input should be greater than or equal to 0"}
    assert errors(api.get("/api/v1/notifications", "th-amr.liaison", params={"limit": "201"})) == {
        "limit": "每页条数不能大于 200 / Input should be less than or equal to 200"}


def test_bad_dates_and_choices_name_the_parameter(api: Api) -> None:
    found = errors(api.get("/api/v1/complaints", "th-amr.liaison", params={"received_from": "yesterday",
                                                                           "received_to": "2026-13-01"}))
    assert found.keys() == {"received_from", "received_to"}
    assert found["received_from"].startswith("受理日期起须为日期，格式如 2026-11-27 / ")
    assert found["received_to"].startswith("受理日期止须为日期，格式如 2026-11-27 / ")
    assert errors(api.get("/api/v1/tasks", "th-amr.liaison", params={"assignee": "everyone"})) == {
        "assignee": "办理人须为以下之一：'me'、'unassigned' / Input should be 'me' or 'unassigned'"}
    period = errors(api.get("/api/v1/calendar/due", "th-amr.liaison",
                            params={"start": "2026-11-18T10:00:00+08:00", "period": "7days"}))["period"]
    assert period.startswith("期限格式不正确，须为正整数加 wd（工作日）或 cd（自然日），如 7wd、60cd / bad period")
    naive = errors(api.get("/api/v1/calendar/due", "th-amr.liaison",
                           params={"start": "2026-11-18T10:00:00", "period": "7wd"}))["start"]
    assert naive.startswith("时间须带时区（如 +08:00）/ ")


def test_the_complaint_body_is_told_in_chinese(api: Api) -> None:
    body = complaint_body()
    del body["subject"]
    body["complainant"] = {**body["complainant"], "name": "张" * 101}
    body["amount"] = "lots"
    found = errors(api.post("/api/v1/complaints", "th-amr.liaison", json=body))
    assert found == {"subject": "标题不能为空 / Field required",
                     "complainant.name": "投诉人姓名不能超过 100 个字 / String should have at most 100 characters",
                     "amount": "涉及金额须为数字 / Input should be a valid decimal"}
    assert errors(api.post("/api/v1/complaints", "th-amr.liaison", json=complaint_body(kind="praise"))) == {
        "kind": "类型须为以下之一：'complaint'、'report'、'consultation' / "
                "Input should be 'complaint', 'report' or 'consultation'"}


def test_malformed_json_and_a_body_of_the_wrong_type(api: Api) -> None:
    task = open_task(api)
    malformed = api.post(f"/api/v1/tasks/{task}/complete", "th-amr.liaison", content=b'{"data": ',
                         headers={"Content-Type": "application/json"})
    assert errors(malformed)["body"].startswith("JSON 格式错误 / malformed JSON")
    assert errors(api.post(f"/api/v1/tasks/{task}/complete", "th-amr.liaison", json={"data": [1]})) == {
        "data": "表单数据须为对象（键值对） / Input should be a valid dictionary"}


def test_an_unknown_api_path_or_method_answers_chinese_json(api: Api) -> None:
    assert chinese_first(api.get("/api/v1/no-such-thing", "th-amr.liaison"), 404) == "未找到 / Not Found"
    wrong_method = api.client.delete("/api/v1/me", headers=api.headers("th-amr.liaison"))
    assert chinese_first(wrong_method, 405) == "不支持该请求方法 / Method Not Allowed"
    assert wrong_method.headers["allow"] == "GET"
    assert chinese_first(api.get("/api/v1/cases/999999", "th-amr.liaison"), 404) == "未找到 / not found"
    assert chinese_first(api.get("/api/v1/workflows/complaint_handling/diff", "admin",
                                 params={"from": 1, "to": 99}), 404) == "未找到 / not found"


def test_refusals_are_chinese(api: Api) -> None:
    assert chinese_first(api.get("/api/v1/tasks", "admin"), 403).startswith("需要机构工作人员或经营者账号")
    assert chinese_first(api.get("/api/v1/users", "th-amr.liaison"), 403).startswith("需要管理员权限")
    task = open_task(api)
    assert api.post(f"/api/v1/tasks/{task}/claim", "th-amr.supervisor").status_code == 204
    assert chinese_first(api.post(f"/api/v1/tasks/{task}/release", "th-amr.liaison"), 403).startswith(
        "只有认领人或主管可以退回此任务")
    assert chinese_first(api.post(f"/api/v1/tasks/{task}/claim", "th-amr.liaison"), 409).startswith(
        "任务已由 th-amr.supervisor 认领")


def test_conflicts_are_chinese(api: Api) -> None:
    task = open_task(api)
    assert api.post(f"/api/v1/tasks/{task}/claim", "th-amr.liaison").status_code == 204
    done = api.post(f"/api/v1/tasks/{task}/complete", "th-amr.liaison", json={"data": {"decision": "accept"}})
    assert done.status_code == 200, done.text
    again = api.post(f"/api/v1/tasks/{task}/complete", "th-amr.liaison", json={"data": {"decision": "accept"}})
    assert chinese_first(again, 409) == "任务已办结 / the task has already been completed"
    user = {"username": "th-amr.liaison", "display_name": "重名", "password": "Another-Long-Pass-2026!",
            "agency": "th-amr", "roles": ["liaison"]}
    assert chinese_first(api.post("/api/v1/users", "admin", json=user), 409) == (
        "用户名 th-amr.liaison 已存在 / user th-amr.liaison exists")
    agency = {"code": "th-amr", "name": "太和县市场监督管理局", "short_name": "太市监", "kind": "market_regulator",
              "region_code": "341222"}
    assert chinese_first(api.post("/api/v1/agencies", "admin", json=agency), 409).startswith("单位代码 th-amr 已存在")


def test_admin_input_is_named_in_chinese(api: Api) -> None:
    lone = {"username": "no-agency", "display_name": "无单位", "password": "Another-Long-Pass-2026!",
            "roles": ["liaison"]}
    assert errors(api.post("/api/v1/users", "admin", json=lone)) == {
        "roles": "无机构的账号只能是管理员 / only an administrator may have no agency"}
    bad_role = {**lone, "agency": "th-amr", "roles": ["boss"]}
    assert errors(api.post("/api/v1/users", "admin", json=bad_role)) == {
        "roles.0": "角色（第 1 项）须为以下之一：'liaison'、'supervisor'、'enforcement'、'admin' / "
                   "Input should be 'liaison', 'supervisor', 'enforcement' or 'admin'"}
    year = api.client.put("/api/v1/calendar/years/2027", headers=api.headers("admin"),
                          json={"holidays": ["2026-10-01"], "workdays": []})
    assert errors(year)["holidays"].startswith("2026-10-01 不在 2027 年内 / ")
