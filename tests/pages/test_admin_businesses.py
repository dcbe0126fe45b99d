"""The business administration pages on SQLite and PostgreSQL, as an administrator's browser without
JavaScript uses them: the list searched by name or USCC and filtered by enrolment in online dispute
resolution, paged; a new business refused with the message beside the field and the input kept; enrolling
one; adding a user whose drawn password is shown once; 停用 / 启用. Anyone else signed in gets the 403 page,
a visitor is sent to sign in, and a form without its CSRF token is refused."""

from __future__ import annotations

from typing import Any

import lxml.html
from sqlalchemy import select

from agencies.businesses import search_businesses
from agencies.passwords import verify_password
from agencies.repository import get_user
from agencies.tables import Business
from engine.db.tables import AuditEvent
from tests.agencies.factories import credit_code, wrong_check_digit
from tests.pages.conftest import Pages, csrf_of
from tests.pages.test_markup import assert_self_contained

LIST = "/admin/businesses"
DEMO_USCC = "91341222MA2N0Y7K3G"
NEW_USCC = credit_code("91341221MA2RQ3L21")


def text_of(node: Any) -> str:
    return " ".join(node.text_content().split())


def listed(html: str) -> list[list[str]]:
    tree = lxml.html.fromstring(html)
    return [[text_of(cell) for cell in row.xpath("td")]
            for row in tree.xpath('//table[contains(@class, "business-list")]/tbody/tr')]


def field_error(html: str, input_id: str) -> str:
    """The message beside one input (between its label and the input, inside its group)."""
    tree = lxml.html.fromstring(html)
    [group] = tree.xpath(f'//div[@id="{input_id}-group"]')
    errors = group.xpath('.//p[@class="field-error"]')
    return text_of(errors[0]).removeprefix("错误：") if errors else ""


def summary(html: str) -> list[tuple[str, str]]:
    tree = lxml.html.fromstring(html)
    return [(link.get("href"), text_of(link)) for link in tree.xpath('//div[@class="error-summary"]//a')]


def business_id(pages: Pages, uscc: str) -> int:
    with pages.scenario.product.reader() as uow:
        found = uow.session.scalars(search_businesses(uscc)).one()
        return found.id


def actions(pages: Pages, action: str) -> list[dict[str, Any]]:
    with pages.scenario.product.reader() as uow:
        return [dict(e.details) for e in uow.session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))]


def test_the_list_searches_filters_and_pages(pages: Pages) -> None:
    pages.api.submit(business={"name": "临泉县好运超市", "region_code": "341221"})
    pages.api.submit()  # 太和县某某电器商行
    pages.sign_in("admin")
    everything = pages.get(LIST)
    assert everything.status_code == 200
    assert_self_contained(everything)
    tree = lxml.html.fromstring(everything.text)
    assert tree.xpath('//nav[@class="sidebar"]//a[@aria-current="page"]/text()') == ["经营者管理"]
    rows = listed(everything.text)
    assert [row[0] for row in rows] == sorted(["太和县诚信家电有限公司", "临泉县好运超市", "太和县某某电器商行"])
    demo = next(row for row in rows if row[0] == "太和县诚信家电有限公司")
    assert demo[1:4] == [DEMO_USCC, "太和县（341222）", "已加入在线纠纷解决"]
    assert [row[0] for row in listed(pages.get(LIST, params={"q": "好运"}).text)] == ["临泉县好运超市"]
    by_uscc = pages.get(LIST, params={"q": DEMO_USCC[:8].lower()}).text
    assert [row[0] for row in listed(by_uscc)] == ["太和县诚信家电有限公司"]
    enrolled = pages.get(LIST, params={"odr": "yes"}).text
    assert [row[0] for row in listed(enrolled)] == ["太和县诚信家电有限公司"]
    assert lxml.html.fromstring(enrolled).xpath('//nav[@class="filters"]/a[@aria-current="page"]/text()') == [
        "已加入在线纠纷解决"]
    not_enrolled = pages.get(LIST, params={"odr": "no", "q": "太和"}).text
    assert [row[0] for row in listed(not_enrolled)] == ["太和县某某电器商行"]
    # the filter links keep the search, the search form keeps the filter
    links = lxml.html.fromstring(not_enrolled).xpath('//nav[@class="filters"]/a/@href')
    assert links == ["/admin/businesses?q=%E5%A4%AA%E5%92%8C", "/admin/businesses?q=%E5%A4%AA%E5%92%8C&odr=yes",
                     "/admin/businesses?q=%E5%A4%AA%E5%92%8C&odr=no"]
    assert "没有符合条件的经营者" in pages.get(LIST, params={"q": "不存在的店"}).text
    too_long = pages.get(LIST, params={"q": "店" * 101})
    assert too_long.status_code == 422 and field_error(too_long.text, "q") == "查询内容最多 100 个字"

    # 51 businesses: two pages of 50
    for number in range(48):
        pages.api.post(LIST.replace("/admin", "/api/v1/admin"), "admin",
                       json={"name": f"太和县测试商店{number:02d}", "region_code": "341222"})
    first = pages.get(LIST).text
    assert len(listed(first)) == 50 and "第 1 页 / 共 2 页" in first
    assert lxml.html.fromstring(first).xpath('//nav[@class="pager"]/a[@rel="next"]/@href') == [
        "/admin/businesses?page=2"]
    assert len(listed(pages.get(LIST, params={"page": "2"}).text)) == 1


def test_a_bad_uscc_is_refused_beside_the_field_and_the_input_kept(pages: Pages) -> None:
    pages.sign_in("admin")
    form = pages.get(f"{LIST}/new")
    assert form.status_code == 200
    bad = wrong_check_digit(NEW_USCC)
    typed = {"name": "临泉县诚信电器有限公司", "uscc": bad, "region_code": "341221", "address": "临泉县城关镇",
             "odr": "1", "csrf_token": csrf_of(form.text)}
    refused = pages.client.post(f"{LIST}/new", data=typed)
    assert refused.status_code == 422
    assert field_error(refused.text, "uscc").startswith("统一社会信用代码校验位")
    assert summary(refused.text) == [("#uscc", field_error(refused.text, "uscc"))]
    tree = lxml.html.fromstring(refused.text)
    assert tree.xpath('//input[@id="uscc"]/@value') == [bad]
    assert tree.xpath('//input[@id="uscc"]/@aria-invalid') == ["true"]
    assert tree.xpath('//input[@id="name"]/@value') == ["临泉县诚信电器有限公司"]
    assert tree.xpath('//input[@id="address"]/@value') == ["临泉县城关镇"]
    assert tree.xpath('//input[@id="odr"]/@checked') == ["checked"]
    # the page's own checks: several at once, each beside its field
    empty = pages.client.post(f"{LIST}/new", data={"name": "", "region_code": "3412",
                                                   "csrf_token": typed["csrf_token"]})
    assert empty.status_code == 422
    assert (field_error(empty.text, "name"), field_error(empty.text, "region_code")) == (
        "请填写经营者名称", "行政区划代码应为 6 位数字，如 341222")
    unknown = pages.client.post(f"{LIST}/new", data={**typed, "uscc": "", "region_code": "341299"})
    assert unknown.status_code == 422 and field_error(unknown.text, "region_code") == "行政区划代码不存在"
    twin = pages.client.post(f"{LIST}/new", data={**typed, "uscc": DEMO_USCC})
    assert twin.status_code == 409
    assert field_error(twin.text, "uscc") == f"统一社会信用代码 {DEMO_USCC} 的经营者已存在"
    assert actions(pages, "business.created") == []

    created = pages.client.post(f"{LIST}/new", data={**typed, "uscc": NEW_USCC.lower()})
    assert created.status_code == 303
    page = pages.get(created.headers["location"])
    assert "已添加经营者。" in page.text and "临泉县诚信电器有限公司" in page.text
    [event] = actions(pages, "business.created")
    assert event["after"]["uscc"] == NEW_USCC and event["after"]["odr"] is True


def test_editing_enrols_the_business_in_odr(pages: Pages) -> None:
    pages.api.submit()  # 太和县某某电器商行, without a USCC
    with pages.scenario.product.reader() as uow:
        shop = uow.session.scalars(select(Business).where(Business.name == "太和县某某电器商行")).one()
    pages.sign_in("admin")
    page = pages.get(f"{LIST}/{shop.id}")
    assert page.status_code == 200 and "未加入" in page.text
    assert_self_contained(page)
    form = {"name": "太和县某某电器商行", "uscc": NEW_USCC, "region_code": "341222",
            "address": "太和县城关镇人民路 8 号", "odr": "1", "csrf_token": csrf_of(page.text)}
    saved = pages.client.post(f"{LIST}/{shop.id}", data=form)
    assert saved.status_code == 303 and saved.headers["location"] == f"{LIST}/{shop.id}?done=saved"
    after = pages.get(saved.headers["location"]).text
    assert "已保存修改。" in after and "已加入在线纠纷解决" in after
    with pages.scenario.product.reader() as uow:
        stored = uow.session.get(Business, shop.id)
        assert stored is not None and (stored.odr, stored.uscc, stored.address) == (
            True, NEW_USCC, "太和县城关镇人民路 8 号")
    [event] = actions(pages, "business.changed")
    assert (event["before"]["odr"], event["after"]["odr"], event["before"]["uscc"]) == (False, True, None)
    # withdrawing: the unchecked box sends nothing
    withdrawn = pages.client.post(f"{LIST}/{shop.id}", data={k: v for k, v in form.items() if k != "odr"})
    assert withdrawn.status_code == 303
    assert [row[3] for row in listed(pages.get(LIST, params={"q": NEW_USCC}).text)] == ["未加入"]
    # a refused change comes back with the message beside the field and nothing saved
    refused = pages.client.post(f"{LIST}/{shop.id}", data={**form, "uscc": DEMO_USCC})
    assert refused.status_code == 409 and "的经营者已存在" in field_error(refused.text, "uscc")
    assert pages.get(f"{LIST}/999999").status_code == 404


def test_adding_a_user_shows_its_password_once(pages: Pages) -> None:
    pages.sign_in("admin")
    demo = business_id(pages, DEMO_USCC)
    page = pages.get(f"{LIST}/{demo}")
    users = lxml.html.fromstring(page.text).xpath('//table[contains(@class, "business-users")]//td[@class="username"]')
    assert [text_of(cell) for cell in users] == ["th-cxjd.staff"]
    token = csrf_of(page.text)
    refused = pages.client.post(f"{LIST}/{demo}/users", data={"username": "th-cxjd.staff", "display_name": "王五",
                                                               "password": "", "csrf_token": token})
    assert refused.status_code == 409 and field_error(refused.text, "user-username") == "用户名 th-cxjd.staff 已存在"
    assert summary(refused.text) == [("#user-username", "用户名 th-cxjd.staff 已存在")]
    weak = pages.client.post(f"{LIST}/{demo}/users", data={"username": "th-cxjd.clerk", "display_name": "王五",
                                                            "password": "password1234", "csrf_token": token})
    assert weak.status_code == 422 and field_error(weak.text, "user-password").startswith("密码过于简单")
    assert "password1234" not in weak.text  # a refused password is not written back into the page
    assert lxml.html.fromstring(weak.text).xpath('//input[@id="user-username"]/@value') == ["th-cxjd.clerk"]

    added = pages.client.post(f"{LIST}/{demo}/users", data={"username": "th-cxjd.clerk", "display_name": "王五",
                                                             "password": "", "csrf_token": token})
    assert added.status_code == 303 and "password" not in added.headers["location"]
    shown = pages.get(added.headers["location"])
    assert shown.headers["cache-control"] == "no-store"
    [password] = lxml.html.fromstring(shown.text).xpath('//code[@class="password"]/text()')
    assert "该密码只显示这一次" in shown.text
    with pages.scenario.product.reader() as uow:
        user = get_user(uow.session, "th-cxjd.clerk")
        assert user is not None and user.roles == ["business"] and user.business_id == demo
        assert verify_password(password, user.password_hash)
    again = pages.get(added.headers["location"])
    assert password not in again.text and "已添加用户 th-cxjd.clerk。" in again.text
    rows = lxml.html.fromstring(again.text).xpath('//table[contains(@class, "business-users")]//td[@class="username"]')
    assert [text_of(cell) for cell in rows] == ["th-cxjd.clerk", "th-cxjd.staff"]
    assert password not in str(actions(pages, "user.created"))


def test_deactivating_and_reactivating_a_user(pages: Pages) -> None:
    pages.sign_in("admin")
    demo = business_id(pages, DEMO_USCC)
    token = csrf_of(pages.get(f"{LIST}/{demo}").text)
    action = f"{LIST}/{demo}/users/th-cxjd.staff/active"
    off = pages.client.post(action, data={"active": "0", "csrf_token": token})
    assert off.status_code == 303
    page = pages.get(off.headers["location"]).text
    assert "已停用用户 th-cxjd.staff" in page and "已停用" in text_of(lxml.html.fromstring(page).xpath(
        '//tr[@id="user-th-cxjd.staff"]')[0])
    assert pages.api.client.post("/api/v1/auth/token", data={"username": "th-cxjd.staff",
                                                             "password": "Huaihe-Demo-2026!"}).status_code == 401
    on = pages.client.post(action, data={"active": "1", "csrf_token": token})
    assert on.status_code == 303 and "已启用用户 th-cxjd.staff" in pages.get(on.headers["location"]).text
    assert [(e["before"]["active"], e["after"]["active"]) for e in actions(pages, "user.changed")] == [
        (True, False), (False, True)]
    # a user of another business (or of an agency) is not this business's to change
    stranger = pages.client.post(f"{LIST}/{demo}/users/th-amr.liaison/active", data={"active": "0",
                                                                                     "csrf_token": token})
    assert stranger.status_code == 404 and len(actions(pages, "user.changed")) == 2


def test_a_form_without_its_csrf_token_is_refused(pages: Pages) -> None:
    pages.sign_in("admin")
    demo = business_id(pages, DEMO_USCC)
    for path, data in ((f"{LIST}/new", {"name": "某店", "region_code": "341222"}),
                       (f"{LIST}/{demo}", {"name": "改名", "region_code": "341222"}),
                       (f"{LIST}/{demo}/users", {"username": "th-cxjd.x", "display_name": "某人"}),
                       (f"{LIST}/{demo}/users/th-cxjd.staff/active", {"active": "0"})):
        for token in ({}, {"csrf_token": "forged"}):
            response = pages.client.post(path, data={**data, **token})
            assert response.status_code == 403 and "请求已失效" in response.text, path
    assert actions(pages, "business.created") == actions(pages, "business.changed") == []
    assert actions(pages, "user.created") == actions(pages, "user.changed") == []


def test_only_the_administrator_sees_the_pages(pages: Pages) -> None:
    visitor = pages.get(LIST)
    assert visitor.status_code == 303 and visitor.headers["location"].startswith("/login?next=/admin/businesses")
    pages.sign_in("th-amr.supervisor")
    assert pages.get(LIST).status_code == 403 and pages.get(f"{LIST}/new").status_code == 403
    assert "经营者管理" not in pages.get("/tasks").text
