"""Signing in and out of the pages: the session cookie, CSRF on every form, the same rate limits as the
API, and a session that ends at logout, at a password change, at deactivation and after 8 hours."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from agencies.repository import get_user
from tests.api.conftest import PASSWORD
from tests.pages.conftest import Pages, csrf_of
from web.pages.sessions import LOGIN_COOKIE, SESSION_COOKIE, issue_login_form, issue_session

STALE = "<h1>请求已失效</h1>"
NEW_PASSWORD = "Qinghe-Bridge-Lantern-2027?"


def user_id(pages: Pages, username: str) -> int:
    with pages.scenario.product.reader() as uow:
        user = get_user(uow.session, username)
        assert user is not None
        return user.id


def signed_in_as(pages: Pages, cookie: str | None = None) -> str | None:
    """Whose inbox ``/tasks`` shows with this session cookie (the jar's when ``None``): a display name, or
    ``None`` when it sends the visitor to the sign-in page."""
    if cookie is not None:
        pages.client.cookies.clear()
        pages.client.cookies.set(SESSION_COOKIE, cookie)
    response = pages.get("/tasks")
    if response.status_code == 303:
        assert response.headers["location"] == "/login?next=/tasks"
        return None
    assert response.status_code == 200, response.text
    start = response.text.index('<span class="user">') + len('<span class="user">')
    return response.text[start:response.text.index("（", start)]


# ------------------------------------------------------------------------------------------ sign-in

def test_signed_out_visitors_are_sent_to_the_sign_in_page_and_back(pages: Pages) -> None:
    root = pages.get("/")
    assert root.status_code == 303 and root.headers["location"] == "/login"
    inbox = pages.get("/tasks", params={"filter": "mine"})
    assert inbox.status_code == 303 and inbox.headers["location"] == "/login?next=/tasks%3Ffilter%3Dmine"
    form = pages.get("/login", params={"next": "/tasks?filter=mine"})
    assert form.status_code == 200 and '<html lang="zh-CN">' in form.text
    assert '<form id="login" method="post" action="/login">' in form.text
    assert '<input id="username" name="username"' in form.text and 'name="password" type="password"' in form.text
    assert '<button type="submit">登录</button>' in form.text
    assert '<input type="hidden" name="next" value="/tasks?filter=mine">' in form.text
    cookie = form.headers["set-cookie"]
    assert cookie.startswith(f"{LOGIN_COOKIE}=") and "HttpOnly" in cookie and "SameSite=lax" in cookie

    signed = pages.client.post("/login", data={"username": "th-amr.liaison", "password": PASSWORD,
                                               "csrf_token": csrf_of(form.text), "next": "/tasks?filter=mine"})
    assert signed.status_code == 303 and signed.headers["location"] == "/tasks?filter=mine"
    assert pages.get("/tasks", params={"filter": "mine"}).status_code == 200


def test_signing_in_sets_an_http_only_lax_session_cookie_and_root_leads_to_the_inbox(pages: Pages) -> None:
    response = pages.login("th-amr.liaison")
    assert response.status_code == 303 and response.headers["location"] == "/tasks"
    [session] = [c for c in response.headers.get_list("set-cookie") if c.startswith(f"{SESSION_COOKIE}=")]
    assert "HttpOnly" in session and "SameSite=lax" in session and "Max-Age=28800" in session
    assert "Secure" not in session  # plain http here: a Secure cookie would never come back
    assert any(c.startswith(f'{LOGIN_COOKIE}=""') for c in response.headers.get_list("set-cookie"))
    assert pages.get("/").headers["location"] == "/tasks"
    assert pages.get("/login").headers["location"] == "/tasks"  # already signed in
    assert signed_in_as(pages) == "太和县市场监督管理局联络员"
    page = pages.get("/tasks").text
    assert '<header class="topbar">' in page and "消费投诉多部门协同办理平台" in page
    assert '<span class="agency">太和县市场监督管理局</span>' in page and "（联络员、执法人员）" in page
    assert '<form id="logout" method="post" action="/logout">' in page and '<button type="submit">退出</button>' in page
    assert '<nav class="sidebar"' in page and '<a href="/tasks" aria-current="page">待办任务</a>' in page


def test_the_administrator_starts_at_the_workflows(pages: Pages) -> None:
    assert pages.login("admin").headers["location"] == "/admin/workflows"
    assert pages.get("/").headers["location"] == "/admin/workflows"
    inbox = pages.get("/tasks")
    assert inbox.status_code == 403 and "（管理员）" in inbox.text and 'href="/admin/workflows"' in inbox.text


def test_the_session_cookie_is_secure_over_https(pages: Pages) -> None:
    with TestClient(pages.client.app, base_url="https://testserver", follow_redirects=False) as client:
        form = client.get("/login")
        assert "Secure" in form.headers["set-cookie"]
        response = client.post("/login", data={"username": "th-amr.liaison", "password": PASSWORD,
                                               "csrf_token": csrf_of(form.text)})
        [session] = [c for c in response.headers.get_list("set-cookie") if c.startswith(f"{SESSION_COOKIE}=")]
        assert "Secure" in session and "HttpOnly" in session


def test_only_a_path_of_this_site_is_followed_after_signing_in(pages: Pages) -> None:
    for target in ("//evil.example/tasks", "https://evil.example/", "/\\evil.example", "tasks", "/tasks\r\nX: y"):
        response = pages.login("th-amr.liaison", next=target)
        assert response.status_code == 303 and response.headers["location"] == "/tasks", target
        pages.sign_out_locally()


def test_a_wrong_password_re_renders_the_form_with_401_and_a_chinese_message(pages: Pages) -> None:
    for username, password in (("th-amr.liaison", "wrong-password"), ("nobody", PASSWORD),
                               ("th-amr.liaison", "x" * 201), ("th-amr.liaison\x00", PASSWORD)):
        response = pages.login(username, password)
        assert response.status_code == 401, username
        assert '<div class="error-summary" role="alert">用户名或密码错误</div>' in response.text
        assert '<form id="login"' in response.text and SESSION_COOKIE not in response.headers.get("set-cookie", "")
    assert 'value="th-amr.liaison"' in pages.login("th-amr.liaison", "wrong").text  # the username is kept
    assert signed_in_as(pages) is None


def test_failed_sign_ins_share_the_apis_limit_and_answer_429_in_chinese(pages: Pages) -> None:
    for _ in range(3):  # the API's failures count for the pages too: one limit per account and address
        failed = pages.client.post("/api/v1/auth/token", data={"username": "th-amr.liaison", "password": "nope"})
        assert failed.status_code == 401
    for _ in range(2):
        assert pages.login("th-amr.liaison", "nope").status_code == 401
    refused = pages.login("th-amr.liaison")  # the right password, while the limit holds
    assert refused.status_code == 429
    assert '<div class="error-summary" role="alert">登录失败次数过多，请稍后再试</div>' in refused.text
    assert signed_in_as(pages) is None
    pages.scenario.clock.set(pages.scenario.clock.now() + timedelta(minutes=6))  # the account's window passes
    assert pages.login("th-amr.liaison").status_code == 303


# --------------------------------------------------------------------------------------------- CSRF

def test_a_sign_in_without_the_forms_own_token_is_refused_with_403(pages: Pages) -> None:
    form = pages.get("/login")
    token = csrf_of(form.text)
    credentials = {"username": "th-amr.liaison", "password": PASSWORD}
    attempts = [
        {**credentials},  # no token at all
        {**credentials, "csrf_token": "guessed"},  # not the cookie's token
        {**credentials, "csrf_token": token + "x"},
    ]
    for data in attempts:
        refused = pages.client.post("/login", data=data)
        assert refused.status_code == 403 and STALE in refused.text and 'href="/login"' in refused.text
    pages.client.cookies.delete(LOGIN_COOKIE, path="/login")  # the token without its cookie (another site's form)
    assert pages.client.post("/login", data={**credentials, "csrf_token": token}).status_code == 403
    forged, forged_token = issue_login_form("another-secret-key-0123456789abcdef", pages.scenario.clock.now())
    pages.client.cookies.set(LOGIN_COOKIE, forged, path="/login")  # a cookie this server did not sign
    assert pages.client.post("/login", data={**credentials, "csrf_token": forged_token}).status_code == 403
    assert signed_in_as(pages) is None
    pages.sign_out_locally()
    assert pages.login("th-amr.liaison").status_code == 303  # none of it counted as a failed sign-in


def test_a_sign_in_form_left_open_over_an_hour_must_be_reloaded(pages: Pages) -> None:
    form = pages.get("/login")
    pages.scenario.clock.set(pages.scenario.clock.now() + timedelta(minutes=61))
    late = pages.client.post("/login", data={"username": "th-amr.liaison", "password": PASSWORD,
                                             "csrf_token": csrf_of(form.text)})
    assert late.status_code == 403 and STALE in late.text


def test_logout_without_the_sessions_token_is_refused_and_the_session_goes_on(pages: Pages) -> None:
    pages.sign_in("th-amr.supervisor")
    other_token = csrf_of(pages.get("/tasks").text)
    pages.sign_out_locally()
    pages.sign_in("th-amr.liaison")
    for data in ({}, {"csrf_token": ""}, {"csrf_token": other_token}):  # another session's token is no use
        refused = pages.client.post("/logout", data=data)
        assert refused.status_code == 403 and STALE in refused.text and '<header class="topbar">' in refused.text
    assert signed_in_as(pages) == "太和县市场监督管理局联络员"


# ------------------------------------------------------------------------------- the session ending

def test_logout_ends_the_session_even_for_a_copy_of_the_cookie(pages: Pages) -> None:
    pages.sign_in("th-amr.liaison")
    cookie = pages.session_cookie()
    response = pages.client.post("/logout", data={"csrf_token": csrf_of(pages.get("/tasks").text)})
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert any(c.startswith(f'{SESSION_COOKIE}=""') for c in response.headers.get_list("set-cookie"))
    assert signed_in_as(pages, cookie) is None  # revoked on the server, not only forgotten by the browser
    after = pages.client.post("/logout", data={})  # signed out already: nothing to end, no error
    assert after.status_code == 303 and after.headers["location"] == "/login"


def test_a_password_change_by_the_administrator_ends_the_session(pages: Pages) -> None:
    pages.sign_in("th-amr.liaison")
    cookie = pages.session_cookie()
    changed = pages.api.client.patch("/api/v1/users/th-amr.liaison", json={"password": NEW_PASSWORD},
                                     headers=pages.api.headers("admin"))
    assert changed.status_code == 200, changed.text
    assert signed_in_as(pages, cookie) is None
    assert pages.login("th-amr.liaison").status_code == 401  # the old password is gone too
    assert pages.login("th-amr.liaison", NEW_PASSWORD).status_code == 303


def test_deactivating_the_user_or_the_agency_ends_the_session(pages: Pages) -> None:
    admin = pages.api.headers("admin")
    pages.sign_in("th-amr.liaison")
    liaison = pages.session_cookie()
    pages.sign_out_locally()
    pages.sign_in("th-amr.supervisor")
    supervisor = pages.session_cookie()
    assert pages.api.client.patch("/api/v1/users/th-amr.liaison", json={"active": False},
                                  headers=admin).status_code == 200
    assert signed_in_as(pages, liaison) is None
    assert signed_in_as(pages, supervisor) == "太和县市场监督管理局负责人"
    assert pages.api.client.patch("/api/v1/agencies/th-amr", json={"active": False}, headers=admin).status_code == 200
    assert signed_in_as(pages, supervisor) is None


def test_a_session_lasts_eight_hours_on_the_product_clock(pages: Pages) -> None:
    pages.sign_in("th-amr.liaison")
    start = pages.scenario.clock.now()
    pages.scenario.clock.set(start + timedelta(hours=8, seconds=-1))
    assert signed_in_as(pages) == "太和县市场监督管理局联络员"
    pages.scenario.clock.set(start + timedelta(hours=8))
    assert signed_in_as(pages) is None


def test_a_cookie_signed_with_another_key_or_meant_for_the_api_is_refused(pages: Pages) -> None:
    product = pages.scenario.product
    now = product.clock.now()
    uid = user_id(pages, "th-amr.liaison")
    genuine, _ = issue_session(uid, "th-amr.liaison", 0, product.secret_key, now)
    assert signed_in_as(pages, genuine) == "太和县市场监督管理局联络员"  # what the server itself signs works
    forged, _ = issue_session(uid, "th-amr.liaison", 0, "another-secret-key-0123456789abcdef", now)
    assert signed_in_as(pages, forged) is None
    tampered = genuine[:-2] + ("AA" if not genuine.endswith("AA") else "BB")
    assert signed_in_as(pages, tampered) is None
    stranger, _ = issue_session(uid + 1000, "th-amr.liaison", 0, product.secret_key, now)  # not this user's id
    assert signed_in_as(pages, stranger) is None
    bearer = pages.api.headers("th-amr.liaison")["Authorization"].removeprefix("Bearer ")
    assert signed_in_as(pages, bearer) is None  # an API token is no session cookie
    assert pages.client.get("/api/v1/me", headers={"Authorization": f"Bearer {genuine}"}).status_code == 401
