"""A complaint worked through the pages in Chromium, from its registration to the last task: intake by a
liaison, review (with a refused submission first), arranging mediation, mediating (keyboard only), closing
and the follow-up call.
Fields required only for some answers stay hidden until they are needed; nothing is asked of another
origin, no script fails and the CSP refuses nothing."""

from __future__ import annotations

from urllib.parse import urlsplit

from playwright.sync_api import Page, Response, expect

from tests.browser.conftest import Visit
from tests.browser.test_sign_in_and_inbox import focused_name, on_path, sign_in
from tests.workflows.scenario import ID_NUMBER, Scenario

TAIHE = "th-amr"


def submit(page: Page, expected_status: int = 303) -> None:
    """Press the form's 提交 and wait for the answer to the POST."""
    def completion(response: Response) -> bool:
        return response.request.method == "POST" and urlsplit(response.url).path.endswith("/complete")

    with page.expect_response(completion) as posted:
        page.get_by_role("button", name="提交", exact=True).click()
    assert posted.value.status == expected_status
    page.wait_for_load_state()


def tab_to(page: Page, name: str, limit: int = 40) -> None:
    """Press Tab until the field called ``name`` has the focus, as someone without a mouse does."""
    for _ in range(limit):
        if focused_name(page) == name:
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reaches the field {name!r}")


def no_sideways_scrolling(page: Page) -> bool:
    fits: bool = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    return fits


def register_by_phone(page: Page) -> None:
    """The liaison takes a complaint by telephone and registers it through 登记投诉."""
    page.get_by_role("link", name="登记投诉").click()
    page.wait_for_url(on_path("/complaints/new"))
    page.locator("input[name='kind'][value='complaint']").check()
    for name, value in (("complainant.name", "张三"), ("complainant.phone", "13812345678"),
                        ("complainant.id_number", ID_NUMBER), ("business.name", "太和县某某电器商行"),
                        ("business.address", "安徽省阜阳市太和县城关镇人民路1号"), ("subject", "空调制冷故障"),
                        ("description", "购买的空调一周后不制冷，商家拒绝维修。"), ("amount", "3299")):
        page.locator(f"[name='{name}']").fill(value)
    page.locator("select[name='business.region_code']").select_option("341222")
    page.locator("select[name='category']").select_option("quality")
    page.get_by_role("button", name="登记", exact=True).click()
    page.wait_for_load_state()


def test_a_liaison_takes_a_complaint_from_intake_to_close_through_the_pages(s: Scenario, visit: Visit) -> None:
    page = visit.page
    sign_in(visit)

    # ---- intake: the complaint is registered and its review opens at once
    register_by_phone(page)
    [review] = s.inbox(TAIHE)
    assert review.task_name == "review" and review.complaint_id is not None
    complaint = s.complaint(review.complaint_id)
    page.wait_for_url(on_path(f"/tasks/{review.id}"))
    expect(page.locator("h1")).to_have_text(f"受理审查 · {complaint.tracking_no}")
    expect(page.locator(".task-meta .deadline")).to_contain_text("2026年11月27日")
    expect(page.locator(".task-meta .deadline .tag")).to_have_text("正常")
    expect(page.locator(".task-complaint")).to_contain_text("张*")
    expect(page.locator(".task-complaint")).to_contain_text("¥3,299.00")
    expect(page.locator(".task-history .timeline li")).to_have_count(1)
    reason = page.locator("#field-reason-group")
    transfer = page.locator("#field-transfer_to-group")
    expect(reason).to_be_hidden()  # needed only for 不予受理 or 转送
    expect(transfer).to_be_hidden()
    assert no_sideways_scrolling(page)
    visit.screenshot("task-page")

    page.locator("form#claim button").click()
    page.wait_for_url(on_path(f"/tasks/{review.id}"))
    expect(page.locator("p.notice")).to_have_text("已领取该任务")
    expect(page.locator(".task-meta .assignee")).to_contain_text("（本人）")

    decision = page.locator("#field-decision-group")
    decision.get_by_role("radio", name="不予受理").check()
    expect(reason).to_be_visible()
    expect(transfer).to_be_hidden()
    decision.get_by_role("radio", name="转送").check()
    expect(reason).to_be_visible()
    expect(transfer).to_be_visible()

    # ---- a refused submission: the summary takes the focus and links to each field
    submit(page, 422)
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary.locator("h2")).to_have_text("请更正以下 2 项")
    expect(summary.locator("a")).to_have_text(["请填写理由", "请填写转送至（机构代码）"])
    expect(page.locator("#field-transfer_to-group .field-error")).to_contain_text("请填写转送至（机构代码）")
    expect(decision.get_by_role("radio", name="转送")).to_be_checked()  # the answer is kept
    summary.locator("a[href='#field-transfer_to']").click()
    expect(page.locator("#field-transfer_to")).to_be_focused()
    visit.screenshot("task-page-errors")

    decision.get_by_role("radio", name="受理", exact=True).check()
    submit(page)

    # ---- on to arranging mediation, the next task of the same liaison
    arrange = s.task(TAIHE, "arrange_mediation", complaint)
    page.wait_for_url(on_path(f"/tasks/{arrange.id}"))
    expect(page.locator("h1")).to_have_text(f"确定调解方式 · {complaint.tracking_no}")
    expect(page.locator("p.notice")).to_have_text("已提交，请继续办理下一项任务")
    mediator = page.locator("#field-mediator-group")
    mediator_agency = page.locator("#field-mediator_agency-group")
    expect(mediator_agency).to_be_hidden()
    mediator.get_by_role("radio", name="委托消费者协会调解").check()
    expect(mediator_agency).to_be_visible()
    mediator.get_by_role("radio", name="本机关调解").check()
    expect(mediator_agency).to_be_hidden()
    page.locator("#field-complainant_consent-group").get_by_role("radio", name="是").check()
    page.locator("#field-business_consent-group").get_by_role("radio", name="是").check()
    page.get_by_label("征求意见的方式").fill("电话征求双方意见，均同意调解")
    submit(page)

    # ---- mediating, with the keyboard only
    mediate = s.task(TAIHE, "mediate", complaint)
    page.wait_for_url(on_path(f"/tasks/{mediate.id}"))
    expect(page.locator("h1")).to_have_text(f"组织调解 · {complaint.tracking_no}")
    agreement = page.locator("#field-agreement_text-group")
    expect(agreement).to_be_hidden()
    tab_to(page, "outcome")
    page.keyboard.press("Space")  # the first option: 达成调解协议
    expect(page.get_by_role("radio", name="达成调解协议")).to_be_checked()
    expect(agreement).to_be_visible()
    page.keyboard.press("Tab")
    assert focused_name(page) == "summary"
    page.keyboard.type("双方到场协商，经营者同意上门更换压缩机。")
    page.keyboard.press("Tab")
    assert focused_name(page) == "agreement_text"
    page.keyboard.type("经营者于2026年11月25日前免费更换压缩机并承担运费。")
    page.keyboard.press("Tab")
    assert focused_name(page) == "violation_found"
    page.keyboard.press("ArrowRight")  # from 是 to 否 within the group
    expect(page.get_by_role("radio", name="否")).to_be_checked()
    expect(page.locator("#field-violation_description-group")).to_be_hidden()
    page.keyboard.press("Tab")  # the hidden description is skipped: on to 提交
    assert page.evaluate("document.activeElement.textContent") == "提交"
    visit.screenshot("task-mediate")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.keyboard.press("Enter")
    assert posted.value.status == 303

    # ---- closing and the follow-up call
    close = s.task(TAIHE, "close", complaint)
    page.wait_for_url(on_path(f"/tasks/{close.id}"))
    expect(page.locator("h1")).to_have_text(f"办结 · {complaint.tracking_no}")
    page.get_by_label("办理结果").fill("双方达成调解协议，经营者已更换压缩机。")
    submit(page)
    follow_up = s.task(TAIHE, "follow_up", complaint)
    page.wait_for_url(on_path(f"/tasks/{follow_up.id}"))
    expect(page.locator("h1")).to_have_text(f"回访 · {complaint.tracking_no}")
    page.get_by_role("radio", name="满意", exact=True).check()
    page.get_by_label("回访记录").fill("投诉人对处理结果满意。")
    submit(page)

    # ---- nothing left for this complaint: back in the inbox
    page.wait_for_url(on_path("/tasks"))
    expect(page.locator("p.notice")).to_have_text("已提交")
    expect(page.locator(f"table.inbox a[href='/tasks/{follow_up.id}']")).to_have_count(0)
    assert s.open_task_names(complaint) == []
    visit.screenshot("task-done-inbox")
    visit.assert_clean(422)
