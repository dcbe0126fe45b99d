"""指定管辖 on the complaint page and the platform line on the task page: the form only for a supervisor of
the supervising agency, posted with the CSRF token, errors beside the fields, then post/redirect/get; the
review's transfer field offers the platform's regulator first."""

from __future__ import annotations

from tests.pages.conftest import Pages, csrf_of, text, tree

LINQUAN_PLATFORM = "91341221MA2N0Y7K32"  # registered in 临泉县 (341221)


def test_a_parent_supervisor_designates_from_the_complaint_page(pages: Pages) -> None:
    submitted = pages.api.submit()
    path = f"/complaints/{submitted['id']}"
    pages.sign_in("th-amr.supervisor")  # the holder's own supervisor: no form
    assert tree(pages.get(path).text).xpath('//section[@id="designation"]') == []
    pages.sign_out_locally()

    pages.sign_in("fy-amr.supervisor")
    shown = pages.get(path)
    assert shown.status_code == 200, shown.text
    form = tree(shown.text)
    options = [o.get("value") for o in form.xpath('//select[@name="agency"]/option') if o.get("value")]
    assert options == ["lq-amr"]
    token = csrf_of(shown.text)

    refused = pages.client.post(f"{path}/designate", data={"csrf_token": token, "agency": "lq-amr", "reason": " "})
    assert refused.status_code == 422
    page = tree(refused.text)
    beside = page.xpath('//p[@id="designate-reason-error"]')
    assert len(beside) == 1 and "请填写指定管辖的理由" in text(beside[0])
    assert page.xpath('//select[@name="agency"]/option[@selected]')[0].get("value") == "lq-amr"

    done = pages.client.post(f"{path}/designate",
                             data={"csrf_token": token, "agency": "lq-amr", "reason": "经营者实际经营地在临泉县"})
    assert done.status_code == 303 and done.headers["location"] == f"{path}?done=designated"
    after = tree(pages.get(done.headers["location"]).text)
    assert "已指定管辖" in text(after.xpath('//p[@class="notice"]')[0])
    assert pages.api.task("lq-amr.liaison", "review", submitted["id"])["agency_code"] == "lq-amr"


def test_a_forged_designation_is_refused(pages: Pages) -> None:
    submitted = pages.api.submit()
    pages.sign_in("fy-amr.supervisor")
    response = pages.client.post(f"/complaints/{submitted['id']}/designate",
                                 data={"csrf_token": "forged", "agency": "lq-amr", "reason": "理由"})
    assert response.status_code in (400, 403)
    assert pages.api.task("th-amr.liaison", "review", submitted["id"])["agency_code"] == "th-amr"


def test_the_review_page_names_the_platform_and_offers_its_regulator_first(pages: Pages) -> None:
    business = {"name": "某网店", "region_code": "341222", "platform": "某电商平台", "platform_uscc": LINQUAN_PLATFORM}
    submitted = pages.api.submit(business=business)
    task_id = pages.api.task("th-amr.liaison", "review", submitted["id"])["id"]
    pages.sign_in("th-amr.liaison")
    page = tree(pages.get(f"/tasks/{task_id}").text)
    line = text(page.xpath('//dd[@class="platform-line"]')[0])
    assert line == f"平台经营者：某电商平台（{LINQUAN_PLATFORM}） · 平台所在地市场监管部门：临泉县市场监督管理局"
    suggestions = page.xpath('//datalist/option')
    assert suggestions[0].get("value") == "lq-amr" and "平台所在地" in text(suggestions[0])


def test_the_intake_form_checks_the_platform_uscc_beside_its_field(pages: Pages) -> None:
    pages.sign_in("th-amr.liaison")
    form = pages.get("/complaints/new")
    assert form.status_code == 200
    page = tree(form.text)
    assert page.xpath('//input[@name="business.platform_uscc"]')
    assert "平台经营者统一社会信用代码" in text(page.xpath('//label[@for="business-platform-uscc"]')[0])
