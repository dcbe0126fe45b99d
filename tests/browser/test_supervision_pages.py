"""The supervisor's pages and the notices page in Chromium: a supervisor hands a task over with the select
and button alone (no script), reads the overdue list, marks notices read; every page loads its own
stylesheet and nothing else, and the CSP refuses nothing."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from playwright.sync_api import expect

from complaintflow.jobs import run_sweep
from engine.clock import SHANGHAI
from tests.browser.conftest import Visit
from tests.browser.test_sign_in_and_inbox import on_path
from tests.workflows.scenario import Scenario


def sign_in_as(visit: Visit, username: str) -> None:
    page = visit.page
    page.goto("/login")
    form = page.locator("form#login")
    form.locator("input[name=username]").fill(username)
    form.locator("input[name=password]").fill("Huaihe-Demo-2026!")
    form.locator("button[type=submit]").click()
    page.wait_for_url(on_path("/tasks"))


def test_a_supervisor_hands_over_a_task_and_follows_the_overdue_work(visit: Visit, s: Scenario) -> None:
    complaint = s.submit()
    s.clock.set(datetime(2026, 11, 28, 9, 0, tzinfo=SHANGHAI))  # the review's deadline has passed
    run_sweep(s.product)
    sign_in_as(visit, "th-amr.supervisor")
    page = visit.page

    page.goto("/supervision")
    expect(page.locator("h1")).to_have_text("本单位全部")
    assert page.locator("table.workload").evaluate("t => getComputedStyle(t).minWidth") == "420px"  # its CSS came
    row = page.locator("table.agency-tasks tbody tr", has_text=complaint.tracking_no)
    expect(row.locator("td.deadline .tag")).to_have_text("已超期")
    row.locator("select[name=username]").select_option(label="太和县市场监督管理局联络员")
    row.locator("button", has_text="转交").click()
    page.wait_for_url(lambda url: urlsplit(url).path == "/supervision" and "done=assigned" in url)
    expect(page.locator("p.notice")).to_have_text("已转交")
    expect(page.locator("table.agency-tasks tbody tr td.assignee")).to_have_text("太和县市场监督管理局联络员")
    visit.screenshot("supervision")

    page.goto("/supervision/overdue")
    expect(page.locator("table.overdue-tasks tbody tr td.deadline .days")).to_have_text("超期不足 1 个工作日")
    expect(page.locator("table.overdue-tasks td.steps li.fired")).to_have_count(1)  # the overdue notice
    visit.screenshot("supervision-overdue")

    page.goto("/notifications")
    expect(page.locator("header a.notices .badge")).to_have_text("1")
    item = page.locator("ol.notices li").first
    expect(item.locator(".tag")).to_have_text("未读")
    item.locator("button", has_text="标为已读").click()
    page.wait_for_url(lambda url: "done=read" in url)
    expect(page.locator("ol.notices li").first.locator(".tag")).to_have_text("已读")
    expect(page.locator("header a.notices .badge")).to_have_count(0)
    visit.screenshot("notifications")

    stylesheets = {urlsplit(u).path for u in visit.requests if u.endswith(".css")}
    assert stylesheets == {"/static/app/app.css", "/static/app/supervision.css"}
    visit.assert_clean()
