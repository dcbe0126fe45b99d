"""A business's own user answers a complaint against it in Chromium with the keyboard only: sign in, open
the 经营者答复 task from the inbox, offer a settlement (the 和解方案 field appears only once 提出和解方案 is
chosen), submit, and the complainant is told of the offer. Nothing is asked of another origin, no script
fails and the CSP refuses nothing."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from sqlalchemy import select

from notifications.tables import OutboxMessage
from tests.browser.conftest import Visit
from tests.browser.test_sign_in_and_inbox import focused_name, on_path, sign_in_with_keyboard
from tests.browser.test_task_flow import tab_to
from tests.workflows.scenario import BUSINESS_USER, ID_NUMBER, ODR_BUSINESS, Scenario

PASSWORD = "Huaihe-Demo-2026!"
OFFER = "全额退款 3299 元，三个工作日内到账"


def tab_to_link(page: Page, href: str, limit: int = 40) -> None:
    for _ in range(limit):
        if page.evaluate("document.activeElement ? document.activeElement.getAttribute('href') : null") == href:
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reaches the link {href!r}")


def test_a_business_user_offers_a_settlement_with_the_keyboard_only(s: Scenario, visit: Visit) -> None:
    complaint = s.submit(received_by=None, business=ODR_BUSINESS)
    [task] = s.inbox(f"business:{complaint.business_id}", complaint)
    page = visit.page

    sign_in_with_keyboard(visit, BUSINESS_USER, PASSWORD)
    page.wait_for_url(on_path("/business/complaints"))  # a business starts at the complaints against it
    tab_to_link(page, "/tasks")
    page.keyboard.press("Enter")
    page.wait_for_url(on_path("/tasks"))
    expect(page.locator("header.topbar .agency")).to_have_text(ODR_BUSINESS["name"])
    expect(page.locator("nav.sidebar a")).to_have_text(["待办任务", "投诉件（本单位）", "通知"])
    expect(page.locator("table.inbox tbody tr .deadline .tag")).to_have_text("正常")

    tab_to_link(page, f"/tasks/{task.id}")
    page.keyboard.press("Enter")
    page.wait_for_url(on_path(f"/tasks/{task.id}"))
    expect(page.locator("h1")).to_have_text(f"经营者答复 · {complaint.tracking_no}")
    expect(page.locator(".task-complaint .complainant")).to_have_text("张* 138****5678")
    assert ID_NUMBER not in page.content()
    offer = page.locator("#field-offer-group")
    expect(offer).to_be_hidden()  # only for 提出和解方案
    expect(page.locator("form#suspend")).to_have_count(0)
    visit.screenshot("business-task")

    tab_to(page, "response")
    page.keyboard.press("Space")  # the first option: 提出和解方案
    expect(page.get_by_role("radio", name="提出和解方案")).to_be_checked()
    expect(offer).to_be_visible()
    page.keyboard.press("Tab")
    assert focused_name(page) == "offer"
    page.keyboard.type(OFFER)
    page.keyboard.press("Tab")
    assert focused_name(page) == "explanation"
    page.keyboard.type("经检测压缩机故障，同意退货")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "提交"
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.keyboard.press("Enter")
    assert posted.value.status == 303

    page.wait_for_url(on_path("/tasks"))
    expect(page.locator("p.notice")).to_have_text("已提交")
    expect(page.locator(f"table.inbox a[href='/tasks/{task.id}']")).to_have_count(0)
    with s.product.reader() as uow:
        told = list(uow.session.scalars(select(OutboxMessage).where(
            OutboxMessage.complaint_id == complaint.id, OutboxMessage.template == "odr_offer")))
    assert told and all(OFFER in message.body_text for message in told)
    visit.assert_clean()
