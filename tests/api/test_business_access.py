"""A business's own users see the complaints against their business and nothing else, over HTTP: never the
complainant's ID number, another business's complaint as a missing one, no staff endpoint."""

from __future__ import annotations

import json

from tests.api.conftest import Api
from tests.workflows.scenario import ID_NUMBER

DEMO_USCC = "91341222MA2N0Y7K3G"
STAFF = "th-cxjd.staff"
ENROLLED = {"name": "太和县诚信家电有限公司", "region_code": "341222", "uscc": DEMO_USCC,
            "address": "安徽省阜阳市太和县城关镇和平路18号"}


def test_the_business_user_sees_only_complaints_against_its_business(api: Api) -> None:
    ours = api.submit(business=ENROLLED, subject="冰箱不制冷")
    by_name = api.submit(business={"name": "太和县诚信家电有限公司", "region_code": "341222"}, subject="洗衣机漏水")
    other = api.submit(subject="空调制冷故障")  # 太和县某某电器商行
    listed = api.get("/api/v1/business/complaints", STAFF)
    assert listed.status_code == 200, listed.text
    page = listed.json()
    assert page["total"] == 2
    assert [item["id"] for item in page["items"]] == [by_name["id"], ours["id"]]  # newest first (same instant: id)
    first = page["items"][1]
    assert (first["tracking_no"], first["subject"], first["status_label"], first["category_label"],
            first["kind_label"]) == (ours["tracking_no"], "冰箱不制冷", "协商和解中", "质量", "投诉")  # ODR first
    assert (first["complainant_name"], first["complainant_phone"]) == ("张*", "138****5678")
    assert api.get(f"/api/v1/business/complaints/{other['id']}", STAFF).status_code == 404
    assert api.get("/api/v1/business/complaints/999999", STAFF).status_code == 404
    assert api.get("/api/v1/business/complaints", STAFF, params={"status": "closed"}).json()["total"] == 0


def test_the_detail_never_shows_the_id_number(api: Api) -> None:
    ours = api.submit(business=ENROLLED)
    response = api.get(f"/api/v1/business/complaints/{ours['id']}", STAFF)
    assert response.status_code == 200, response.text
    detail = response.json()
    assert "complainant_id_number" not in detail
    body = json.dumps(detail, ensure_ascii=False)
    for secret in (ID_NUMBER, ID_NUMBER[6:14], ID_NUMBER[:6] + "*", "13812345678", "zhangsan@", "张三"):
        assert secret not in body
    assert (detail["complainant_name"], detail["complainant_phone"], detail["complainant_email"]) == (
        "张*", "138****5678", "z****@example.com")
    assert (detail["handling_agency"], detail["business_name"], detail["amount"], detail["status_label"]) == (
        "太和县市场监督管理局", "太和县诚信家电有限公司", "3299.00", "协商和解中")
    # the competent regulator still sees the complainant whole
    staff_view = api.get(f"/api/v1/complaints/{ours['id']}", "th-amr.liaison").json()
    assert staff_view["complainant_id_number"] == ID_NUMBER


def test_the_business_user_is_no_staff_and_staff_are_no_business(api: Api) -> None:
    ours = api.submit(business=ENROLLED)
    me = api.get("/api/v1/me", STAFF).json()
    assert (me["agency"], me["roles"]) == (None, ["business"])
    for path in ("/api/v1/complaints", f"/api/v1/complaints/{ours['id']}", "/api/v1/admin/businesses"):
        response = api.get(path, STAFF)
        assert response.status_code in (403, 404), (path, response.status_code)
        assert "机构" in response.text or "管理员" in response.text or "未找到" in response.text
    for user in ("th-amr.liaison", "admin"):
        response = api.get("/api/v1/business/complaints", user)
        assert response.status_code == 403
        assert response.json()["detail"] == "需要经营者账号 / needs a business account"
    assert api.get("/api/v1/business/complaints", None).status_code == 401
