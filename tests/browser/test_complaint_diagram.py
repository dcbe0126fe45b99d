"""The complaint page in Chromium: searching by the complainant's phone leads to the complaint, whose
diagram draws the path taken and the open task, with a badge on the running mediation timer; nothing is
asked of another origin and the Content-Security-Policy refuses nothing. Without JavaScript the page
still shows everything but the diagram, and says so."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from tests.api.conftest import PASSWORD
from tests.browser.conftest import TIMEOUT_MS, VIEWPORT, Visit
from tests.browser.test_sign_in_and_inbox import on_path, sign_in
from tests.workflows.scenario import CONSENTED, Scenario

PHONE = "13812345678"


def element(visit: Visit, element_id: str) -> str:
    """The classes of the diagram's SVG group for a BPMN element."""
    locator = visit.page.locator(f'#diagram g.djs-element[data-element-id="{element_id}"]')
    expect(locator).to_have_count(1)
    return str(locator.get_attribute("class"))


def test_the_diagram_marks_the_open_task_the_path_and_the_mediation_timer(s: Scenario, visit: Visit) -> None:
    complaint = s.submit()
    s.do("th-amr", "review", {"decision": "accept"}, complaint)
    s.do("th-amr", "arrange_mediation", {**CONSENTED, "mediator": "self"}, complaint)
    page = visit.page
    sign_in(visit)

    page.locator("nav.sidebar a[href='/complaints']").click()
    page.wait_for_url(on_path("/complaints"))
    page.locator("#q").fill(PHONE)
    page.locator("#complaint-search button[type=submit]").click()
    link = page.locator(f"table.complaint-list a[href='/complaints/{complaint.id}']")
    expect(link).to_have_text(complaint.tracking_no)
    visit.screenshot("complaint-search")
    link.click()
    page.wait_for_url(on_path(f"/complaints/{complaint.id}"))

    expect(page.locator("#diagram")).to_have_attribute("data-diagram-state", "ready")
    assert "cf-current" in element(visit, "mediate")
    assert "cf-current" in element(visit, "mediate_deadline")  # the boundary timer waits with it
    for done in ("start_regulator", "review", "accept_complaint", "arrange_mediation"):
        classes = element(visit, done)
        assert "cf-completed" in classes and "cf-current" not in classes, done
    assert "cf-completed" not in element(visit, "close") and "cf-current" not in element(visit, "close")
    expect(page.locator("#diagram .cf-timer-badge")).to_have_text("调解期限：2027年1月18日")
    expect(page.locator(".head-facts .timer")).to_have_text("调解期限：2027年1月18日")  # in words too
    expect(page.locator("#diagram .diagram-message")).to_have_count(0)
    visit.screenshot("complaint-detail")
    visit.assert_clean()


def test_without_javascript_the_page_works_and_the_diagram_says_it_needs_it(s: Scenario, browser: Browser,
                                                                          server: str) -> None:
    complaint = s.submit()
    context = browser.new_context(base_url=server, locale="zh-CN", timezone_id="Asia/Shanghai", viewport=VIEWPORT,
                                  java_script_enabled=False)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        page.goto("/login")
        page.locator("input[name=username]").fill("th-amr.liaison")
        page.locator("input[name=password]").fill(PASSWORD)
        page.locator("form#login button[type=submit]").click()
        page.wait_for_url(on_path("/tasks"))
        page.goto(f"/complaints?q={complaint.tracking_no}")
        page.locator(f"a[href='/complaints/{complaint.id}']").click()
        page.wait_for_url(on_path(f"/complaints/{complaint.id}"))
        expect(page.locator("#diagram .diagram-message")).to_have_text(
            "流程图需要启用 JavaScript 才能显示，本页其他内容不受影响。")
        expect(page.locator(".head-facts .deadline")).to_contain_text("受理期限：2026年11月27日")
        expect(page.locator("table.complaint-tasks td.title a")).to_have_text("受理审查")
        expect(page.locator("dl.facts")).to_contain_text("太和县某某电器商行")
    finally:
        context.close()
