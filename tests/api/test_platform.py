"""Platform complaints and designated jurisdiction over HTTP: the platform operator's USCC at intake
(checksum-verified, the error in Chinese naming the field), the platform's regulator in the complaint's
detail, and ``POST /api/v1/complaints/{id}/designate`` with its refusals."""

from __future__ import annotations

from tests.api.conftest import Api
from tests.workflows.scenario import complaint_body

LINQUAN_PLATFORM = "91341221MA2N0Y7K32"  # registered in 临泉县 (341221)
ON_PLATFORM = {"name": "某网店", "region_code": "341222", "platform": "某电商平台", "platform_uscc": LINQUAN_PLATFORM}


def test_the_detail_names_the_platform_operator_and_its_regulator(api: Api) -> None:
    submitted = api.submit(business=ON_PLATFORM)
    detail = api.get(f"/api/v1/complaints/{submitted['id']}", "th-amr.liaison").json()
    assert detail["business_platform"] == "某电商平台"
    assert detail["business_platform_uscc"] == LINQUAN_PLATFORM
    assert detail["platform_regulator"] == {"code": "lq-amr", "name": "临泉县市场监督管理局"}
    plain = api.submit()
    detail = api.get(f"/api/v1/complaints/{plain['id']}", "th-amr.liaison").json()
    assert (detail["business_platform_uscc"], detail["platform_regulator"]) == (None, None)


def test_a_bad_platform_uscc_is_refused_beside_its_field(api: Api) -> None:
    body = complaint_body(business={**ON_PLATFORM, "platform_uscc": LINQUAN_PLATFORM[:-1] + "0"})
    response = api.post("/api/v1/complaints", "th-amr.liaison", json=body)
    assert response.status_code == 422
    found = {e["field"]: e["message"] for e in response.json()["detail"]}
    assert list(found) == ["business.platform_uscc"]
    assert found["business.platform_uscc"].startswith("平台经营者统一社会信用代码校验位错误")


def test_designation_over_the_api(api: Api) -> None:
    submitted = api.submit()
    path = f"/api/v1/complaints/{submitted['id']}/designate"
    body = {"agency": "lq-amr", "reason": "经营者实际经营地在临泉县"}
    # the parent's supervisor sees the complaint it may designate
    assert api.get(f"/api/v1/complaints/{submitted['id']}", "fy-amr.supervisor").status_code == 200
    refused = api.post(path, "fy-amr.liaison", json=body)  # the parent agency, but not a supervisor
    assert refused.status_code == 403 and "上级机关的负责人" in refused.json()["detail"]
    refused = api.post(path, "th-amr.supervisor", json=body)  # a supervisor, of the wrong agency
    assert refused.status_code == 403 and "上级机关的负责人" in refused.json()["detail"]
    assert api.post(path, "lq-amr.supervisor", json=body).status_code == 404  # may not see it
    missing = api.post(path, "fy-amr.supervisor", json={"agency": "lq-amr"})
    assert missing.status_code == 422 and "reason" in missing.text
    wrong = api.post(path, "fy-amr.supervisor", json={"agency": "th-cca", "reason": "理由"})
    assert wrong.status_code == 422
    assert [(e["field"], e["message"].split(" / ")[0]) for e in wrong.json()["detail"]] == [
        ("agency", "th-cca 不是本机关所属的市场监管部门")]

    done = api.post(path, "fy-amr.supervisor", json=body)
    assert done.status_code == 200, done.text
    assert done.json() == {"complaint_id": submitted["id"], "from_agency": "th-amr", "to_agency": "lq-amr",
                           "tasks": ["review"]}
    assert api.task("lq-amr.liaison", "review", submitted["id"])["agency_code"] == "lq-amr"
    notices = api.get("/api/v1/notifications", "lq-amr.liaison").json()
    subject = f"【指定管辖】阜阳市市场监督管理局指定本单位办理投诉 {submitted['tracking_no']}"
    assert [n["subject"] for n in notices] == [subject]

    api.act("lq-amr.liaison", "review", submitted["id"], {"decision": "accept"})
    late = api.post(path, "fy-amr.supervisor", json={"agency": "th-amr", "reason": "理由"})
    assert late.status_code == 409 and "受理审查阶段" in late.json()["detail"]
