"""The workflow administration pages in Chromium: the administrator signs in onto the list of versions,
compares version 1 with a version 2 that renames 受理审查 (the renamed task marked cf-changed on the
diagram), deploys version 2 and rolls back to version 1 with the buttons, and opens a running instance
from the migration page, its open task marked cf-current; nothing is asked of another origin and the
Content-Security-Policy refuses nothing."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.api.conftest import PASSWORD
from tests.browser.conftest import Visit
from tests.browser.test_sign_in_and_inbox import on_path
from tests.pages.test_admin_workflows import KEY, RENAMED, upload_second
from tests.workflows.scenario import Scenario


def classes(visit: Visit, box: str, element_id: str) -> str:
    """The classes of a diagram's SVG group for a BPMN element."""
    locator = visit.page.locator(f'#{box} g.djs-element[data-element-id="{element_id}"]')
    expect(locator).to_have_count(1)
    return str(locator.get_attribute("class"))


def test_compare_deploy_roll_back_and_look_at_an_instance(s: Scenario, visit: Visit) -> None:
    complaint = s.submit()
    upload_second(s)
    page = visit.page
    page.goto("/login")
    page.locator("form#login input[name=username]").fill("admin")
    page.locator("form#login input[name=password]").fill(PASSWORD)
    page.locator("form#login button[type=submit]").click()
    page.wait_for_url(on_path("/admin/workflows"))
    v1, v2 = (page.locator(f"#version-{KEY}-{n}") for n in (1, 2))
    expect(v1.locator(".version")).to_have_text("第 1 版 已发布")
    expect(v2.locator(".comment")).to_contain_text("基于第 1 版")
    visit.screenshot("admin-workflows")

    v2.locator("a.diff").click()
    page.wait_for_url(on_path(f"/admin/workflows/{KEY}/diff"))
    expect(page.locator("#diagram-to")).to_have_attribute("data-diagram-state", "ready")
    assert "cf-changed" in classes(visit, "diagram-to", "review")
    assert "cf-changed" not in classes(visit, "diagram-to", "review_decision")
    expect(page.locator('table.diff-table tr[data-element-id="review"] .details')).to_contain_text(
        f"名称 受理审查 → {RENAMED}")
    visit.screenshot("admin-diff")

    page.locator("nav.sidebar a[href='/admin/workflows']").click()
    page.wait_for_url(on_path("/admin/workflows"))
    v2.get_by_role("button", name="发布").click()
    expect(page.locator("p.notice")).to_contain_text("已发布第 2 版")
    expect(v2.locator(".version")).to_have_text("第 2 版 已发布")
    v1.get_by_role("button", name="回滚到此版本").click()
    expect(page.locator("p.notice")).to_contain_text("已发布第 1 版")
    expect(v1.locator(".version")).to_have_text("第 1 版 已发布")
    expect(v2.get_by_role("button", name="发布")).to_be_visible()

    page.goto(f"/admin/workflows/{KEY}/migrate?from=1&to=2")
    expect(page.locator(f"#instance-{complaint.process_instance_id} .verdict")).to_contain_text("不可迁移")
    page.locator(f"#instance-{complaint.process_instance_id} a").click()
    page.wait_for_url(on_path(f"/admin/instances/{complaint.process_instance_id}"))
    expect(page.locator("#diagram")).to_have_attribute("data-diagram-state", "ready")
    assert "cf-current" in classes(visit, "diagram", "review")
    assert "cf-completed" in classes(visit, "diagram", "start_regulator")
    expect(page.locator(".complainant")).to_have_text("投诉人：张*")
    visit.screenshot("admin-instance")
    visit.assert_clean()
