"""Signing in, the inbox and signing out, in Chromium: keyboard-only sign-in lands on the agency's inbox
with its tasks; a wrong password is told in Chinese; logout ends the session; a POST without the CSRF
token is refused; and no page asks anything of another origin, logs an error or breaks its CSP."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from playwright.sync_api import Page, Response, expect

from tests.api.conftest import PASSWORD
from tests.browser.conftest import Visit
from tests.workflows.scenario import Scenario

LIAISON = "th-amr.liaison"
AGENCY_NAME = "太和县市场监督管理局"
PRODUCT_NAME = "消费投诉多部门协同办理平台"
SESSION_COOKIE = "cf_session"


def on_path(path: str) -> Callable[[str], bool]:
    """A URL predicate for ``Page.wait_for_url``: this path, whatever the query string."""
    return lambda url: urlsplit(url).path == path


def focused_name(page: Page) -> str | None:
    name: str | None = page.evaluate("document.activeElement ? document.activeElement.getAttribute('name') : null")
    return name


def sign_in_with_keyboard(visit: Visit, username: str, password: str) -> None:
    """Tab to the user name, type, Tab to the password, type, Enter: what someone without a mouse does."""
    page = visit.page
    page.goto("/login")
    for _ in range(10):  # past whatever comes first (a skip link, the product name), unless autofocused
        if focused_name(page) == "username":
            break
        page.keyboard.press("Tab")
    assert focused_name(page) == "username", "Tab never reaches the user name field"
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    assert focused_name(page) == "password", "Tab from the user name does not go to the password"
    page.keyboard.type(password)
    page.keyboard.press("Enter")


def sign_in(visit: Visit, username: str = LIAISON, password: str = PASSWORD) -> None:
    page = visit.page
    page.goto("/login")
    form = page.locator("form#login")
    form.locator("input[name=username]").fill(username)
    form.locator("input[name=password]").fill(password)
    form.locator("button[type=submit]").click()
    page.wait_for_url(on_path("/tasks"))


def session_cookies(visit: Visit) -> list[dict[str, object]]:
    return [dict(cookie) for cookie in visit.page.context.cookies() if cookie["name"] == SESSION_COOKIE]


def test_a_liaison_signs_in_with_the_keyboard_and_sees_the_agency_inbox(s: Scenario, visit: Visit) -> None:
    complaint = s.submit()
    [task] = s.inbox("th-amr", complaint)
    page = visit.page

    sign_in_with_keyboard(visit, LIAISON, PASSWORD)
    page.wait_for_url(on_path("/tasks"))

    [cookie] = session_cookies(visit)
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Lax"
    assert cookie["secure"] is False  # plain http here; Secure only behind TLS
    topbar = page.locator("header.topbar")
    expect(topbar).to_contain_text(PRODUCT_NAME)
    expect(topbar).to_contain_text(AGENCY_NAME)
    expect(topbar).to_contain_text("联络员")
    expect(page.locator("nav.sidebar a[href='/tasks']")).to_have_text("待办任务")
    row = page.locator("table.inbox tbody tr", has=page.locator(f"a[href='/tasks/{task.id}']"))
    expect(row).to_have_count(1)
    expect(row.locator(f"a[href='/tasks/{task.id}']")).to_have_text(task.title)
    expect(row).to_contain_text(complaint.tracking_no)
    expect(row).to_contain_text(complaint.subject)
    expect(row).to_contain_text("2026年11月27日")
    expect(row).to_contain_text("未认领")
    assert complaint.tracking_no and task.title  # the expectations above matched real values, not ""
    visit.screenshot("tasks")
    visit.assert_clean()


def test_a_wrong_password_is_told_in_chinese_and_signs_nobody_in(s: Scenario, visit: Visit) -> None:
    page = visit.page
    page.goto("/login")
    visit.screenshot("login")
    form = page.locator("form#login")
    form.locator("input[name=username]").fill(LIAISON)
    form.locator("input[name=password]").fill(PASSWORD + "x")
    with page.expect_response(lambda r: r.request.method == "POST" and urlsplit(r.url).path == "/login") as posted:
        form.locator("button[type=submit]").click()
    assert posted.value.status == 401

    summary = page.locator(".error-summary")
    expect(summary).to_have_text("用户名或密码错误")
    expect(summary).to_have_attribute("role", "alert")
    assert visit.path() == "/login"
    assert session_cookies(visit) == []
    visit.screenshot("login-wrong-password")
    visit.assert_clean(401)


def test_logout_ends_the_session(s: Scenario, visit: Visit) -> None:
    page = visit.page
    sign_in(visit)

    page.locator("form#logout button[type=submit]").click()
    page.wait_for_url(on_path("/login"))
    assert session_cookies(visit) == []
    page.goto("/tasks")
    assert visit.path() == "/login"
    visit.assert_clean()


def test_a_session_cookie_kept_from_before_logout_does_not_sign_in_again(s: Scenario, visit: Visit) -> None:
    """Removing the cookie from this browser is not enough: a copy taken before logout (another tab's
    request in flight, a stolen cookie) must not open the inbox afterwards."""
    page = visit.page
    sign_in(visit)
    kept = visit.page.context.cookies()

    page.locator("form#logout button[type=submit]").click()
    page.wait_for_url(on_path("/login"))
    page.context.add_cookies(kept)  # type: ignore[arg-type]  # the same dicts Playwright gave
    page.goto("/tasks")
    assert visit.path() == "/login"
    visit.assert_clean()


def test_pages_are_chinese_and_load_nothing_from_elsewhere(s: Scenario, visit: Visit) -> None:
    s.submit()
    page = visit.page
    failed: list[str] = []

    def on_response(response: Response) -> None:
        if response.status >= 400:
            failed.append(f"{response.status} {response.url}")

    page.on("response", on_response)

    for path in ("/login", "/"):
        page.goto(path)
        assert visit.path() == "/login"
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    sign_in(visit)
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    for query in ("", "?filter=mine", "?filter=unassigned", "?filter=overdue"):
        page.goto(f"/tasks{query}")
        assert visit.path() == "/tasks"
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    page.goto("/")
    assert visit.path() == "/tasks"
    page.locator("form#logout button[type=submit]").click()
    page.wait_for_url(on_path("/login"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")

    assert any(urlsplit(url).path.startswith("/static/") for url in visit.requests), "no style or script loaded"
    assert failed == []
    visit.assert_clean()


def test_a_post_without_the_csrf_token_is_refused(s: Scenario, visit: Visit) -> None:
    page = visit.page

    # signing in needs the token too (else a hostile site could sign a visitor in to its own account)
    refused_sign_in = page.request.post(visit.url("/login"), form={"username": LIAISON, "password": PASSWORD},
                                        max_redirects=0)
    assert refused_sign_in.status == 403
    assert "请求已失效" in refused_sign_in.text()
    assert session_cookies(visit) == []

    sign_in(visit)
    no_token = page.request.post(visit.url("/logout"), form={}, max_redirects=0)
    assert no_token.status == 403
    assert "请求已失效" in no_token.text()

    # a form as another site would post it: the session cookie goes along, a made-up token with it
    posting = page.expect_response(lambda r: r.request.method == "POST" and urlsplit(r.url).path == "/logout")
    with posting as forged:
        page.evaluate("""() => {
            const form = document.createElement("form");
            form.method = "post";
            form.action = "/logout";
            const token = document.createElement("input");
            token.type = "hidden";
            token.name = "csrf_token";
            token.value = "forged-token";
            form.append(token);
            document.body.append(form);
            form.submit();
        }""")
    assert forged.value.status == 403
    page.wait_for_url(on_path("/logout"))
    expect(page.locator("h1")).to_have_text("请求已失效")
    expect(page.locator(":has(> h1) a[href]").first).to_be_visible()  # the way back, beside the message
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    visit.screenshot("csrf-refused")

    page.goto("/tasks")  # neither refused POST ended the session
    assert visit.path() == "/tasks"
    visit.assert_clean(403)
