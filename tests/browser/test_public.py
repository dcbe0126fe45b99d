"""The public pages in Chromium, on a phone (375×812) and an office screen (1366×768): a citizen fills in the
complaint form, mistypes the phone number and is told beside the field, corrects it, gets the tracking
number and code, and tracks the complaint with them; no page overflows the phone's width, asks anything of
another origin, logs an error or breaks its CSP."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, ViewportSize, expect

from tests.browser.conftest import Visit
from tests.workflows.scenario import Scenario, complaint_body

BODY = complaint_body()
PHONE: ViewportSize = {"width": 375, "height": 812}
OFFICE: ViewportSize = {"width": 1366, "height": 768}


def fill_in(page: Page, phone: str) -> None:
    form = page.locator("form#complaint-form")
    person, business = BODY["complainant"], BODY["business"]
    form.get_by_label("投诉（与经营者发生消费纠纷，请求调解）").check()
    form.get_by_label("姓名").fill(person["name"])
    form.get_by_label("联系电话").fill(phone)
    form.get_by_label("身份证号码").fill(person["id_number"])
    form.get_by_label("经营者名称").fill(business["name"])
    form.get_by_label("经营者所在地区").select_option(label="阜阳市 太和县")
    form.get_by_label("经营地址").fill(business["address"])
    form.get_by_label("投诉类别").select_option(label="质量")
    form.get_by_label("事项简述").fill(BODY["subject"])
    form.get_by_label("详细情况与诉求").fill(BODY["description"])
    form.get_by_label("涉及金额（元）").fill("3299")


def fits(page: Page) -> bool:
    """Nothing wider than the window: no sideways scrolling."""
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


@pytest.mark.parametrize(("viewport", "suffix"), [(PHONE, "-phone"), (OFFICE, "")], ids=["phone", "office"])
def test_a_citizen_submits_and_tracks_a_complaint(s: Scenario, visit: Visit, viewport: ViewportSize,
                                                  suffix: str) -> None:
    page = visit.page
    page.set_viewport_size(viewport)
    page.goto("/public/complaints/new")
    expect(page.locator("h1")).to_have_text("我要投诉")
    assert fits(page)
    visit.screenshot(f"public-new{suffix}")

    fill_in(page, phone="1381234")
    with page.expect_response(lambda r: r.request.method == "POST") as refused:
        page.get_by_role("button", name="提交投诉").click()
    assert refused.value.status == 422
    summary = page.locator(".error-summary")
    expect(summary.locator("h2")).to_have_text("请更正以下 1 项")
    summary.get_by_role("link", name="请填写有效的手机号码或带区号的固定电话").click()
    phone_field = page.locator("#complainant-phone")
    expect(phone_field).to_be_focused()
    expect(phone_field).to_have_value("1381234")  # kept as typed
    expect(page.locator("#complainant-phone-error")).to_have_text("错误：请填写有效的手机号码或带区号的固定电话")
    expect(page.get_by_label("事项简述")).to_have_value(BODY["subject"])
    assert fits(page)
    visit.screenshot(f"public-new-errors{suffix}")

    phone_field.fill(BODY["complainant"]["phone"])
    page.get_by_role("button", name="提交投诉").click()
    page.wait_for_url(lambda url: urlsplit(url).path == "/public/complaints/submitted")
    number = page.locator("dd.tracking-no").inner_text()
    code = page.locator("dd.tracking-code").inner_text()
    assert number.startswith("TS20261118") and len(code) == 8
    assert code not in page.url
    expect(page.locator(".notice-warning")).to_contain_text("查询码只在本页显示这一次")
    assert fits(page)
    visit.screenshot(f"public-submitted{suffix}")

    page.get_by_role("link", name="去查询办理进度").click()
    page.wait_for_url(lambda url: urlsplit(url).path == "/public/track")
    page.get_by_label("投诉编号").fill(number)
    page.get_by_label("查询码").fill(code.lower())
    page.get_by_role("button", name="查询").click()
    result = page.locator("section.track-result")
    expect(result).to_contain_text("待受理")
    expect(result).to_contain_text("太和县市场监督管理局")
    expect(result).to_contain_text("承办单位将于 2026年11月27日 前作出是否受理的决定，并告知您")
    expect(result.locator("ol.milestones li").first).to_contain_text("2026年11月18日")
    for personal in (BODY["complainant"]["name"], BODY["complainant"]["phone"], BODY["business"]["name"]):
        expect(page.locator("main")).not_to_contain_text(personal)
    assert code not in page.url and number not in page.url
    assert fits(page)
    visit.screenshot(f"public-track{suffix}")

    page.get_by_label("查询码").fill("AAAAAAAA")
    with page.expect_response(lambda r: r.request.method == "POST") as wrong:
        page.get_by_role("button", name="查询").click()
    assert wrong.value.status == 404
    expect(page.locator(".notice-error")).to_have_text("投诉编号或查询码不正确，请核对后重新输入。")
    expect(page.locator("section.track-result")).to_have_count(0)
    visit.assert_clean(422, 404)
