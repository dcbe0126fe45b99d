"""The notices page: the user's own in-app notices (here from the deadline sweep), newest first, unread
marked in words, dated in Chinese, linked to their complaint; marking one or all read (CSRF, PRG), the
header's count following; paging."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import lxml.html

from complaintflow.jobs import run_sweep
from engine.clock import SHANGHAI
from tests.pages.conftest import Pages, csrf_of

LIAISON_NOTICES = 4  # two reminders and two overdue notices, for the two reviews below


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def text(node: Any) -> str:
    return " ".join(node.text_content().split())


def notices(html: str) -> list[dict[str, Any]]:
    tree = lxml.html.fromstring(html)
    return [{"tag": text(item.xpath('.//span[contains(@class, "tag")]')[0]),
             "unread": "unread" in item.get("class").split(),
             "subject": text(item.xpath('.//h2[@class="notice-subject"]')[0]),
             "time": text(item.xpath('.//time')[0]),
             "link": (item.xpath('.//a[@class="complaint-link"]/@href') or [None])[0],
             "button": [text(b) for b in item.xpath(".//button")],
             "id": item.get("id").removeprefix("notice-")}
            for item in tree.xpath('//ol[@class="notices"]/li')]


def badge(html: str) -> str | None:
    found = lxml.html.fromstring(html).xpath('//header//a[@class="notices"]/span[@class="badge"]')
    return text(found[0]) if found else None


def reviews_gone_overdue(pages: Pages) -> tuple[dict[str, Any], dict[str, Any]]:
    """Two reviews left unclaimed (due 27 November and 1 December): the sweep on the 25th reminds the
    liaisons of the first, on the 28th tells them it is overdue and reminds them of the second, on
    3 December tells them the second is overdue."""
    first = pages.api.submit()
    pages.api.travel(at("2026-11-20T09:30:00"))
    second = pages.api.submit(subject="冰箱不制冷")
    for day in ("2026-11-25T09:00:00", "2026-11-28T09:00:00", "2026-12-03T09:00:00"):
        pages.api.travel(at(day))
        run_sweep(pages.scenario.product)
    return first, second


def test_the_users_notices_newest_first_unread_marked_dated_and_linked(pages: Pages) -> None:
    first, second = reviews_gone_overdue(pages)
    pages.sign_in("th-amr.liaison")
    response = pages.get("/notifications")
    assert response.status_code == 200
    listed = notices(response.text)
    assert [(n["time"], n["subject"]) for n in listed] == [
        ("2026年12月3日 09:00", "【已超期】受理审查（2026年12月1日到期）"),
        ("2026年11月28日 09:00", "【已超期】受理审查（2026年11月27日到期）"),
        ("2026年11月28日 09:00", "【即将到期】受理审查（2026年12月1日到期）"),
        ("2026年11月25日 09:00", "【即将到期】受理审查（2026年11月27日到期）"),
    ]
    assert [n["link"] for n in listed] == [f"/complaints/{second['id']}", f"/complaints/{first['id']}",
                                           f"/complaints/{second['id']}", f"/complaints/{first['id']}"]
    assert {(n["tag"], n["unread"]) for n in listed} == {("未读", True)}
    assert all(n["button"] == ["标为已读"] for n in listed)
    tree = lxml.html.fromstring(response.text)
    assert text(tree.xpath('//p[@class="count"]')[0]) == "共 4 条，未读 4 条"
    assert tree.xpath('//form[@action="/notifications/read-all"]//button/text()') == ["全部标为已读"]
    assert badge(response.text) == "4"
    assert tree.xpath('//nav[@class="sidebar"]//a[@href="/notifications"]/@aria-current') == ["page"]

    pages.sign_out_locally()  # the supervisor heard only of the overdue deadlines; the city bureau of nothing yet
    pages.sign_in("th-amr.supervisor")
    assert [n["subject"] for n in notices(pages.get("/notifications").text)] == [
        "【已超期】受理审查（2026年12月1日到期）", "【已超期】受理审查（2026年11月27日到期）"]


def test_marking_one_and_then_all_notices_read(pages: Pages) -> None:
    reviews_gone_overdue(pages)
    pages.sign_in("th-amr.liaison")
    page = pages.get("/notifications")
    listed = notices(page.text)
    csrf = csrf_of(page.text)

    done = pages.client.post(f"/notifications/{listed[1]['id']}/read",
                             data={"csrf_token": csrf, "back": "/notifications"})
    assert done.status_code == 303 and done.headers["location"] == "/notifications?done=read"
    after = pages.get(done.headers["location"]).text
    assert text(lxml.html.fromstring(after).xpath('//p[@class="notice"]')[0]) == "已标为已读"
    assert [(n["tag"], n["unread"], n["button"]) for n in notices(after)] == [
        ("未读", True, ["标为已读"]), ("已读", False, []), ("未读", True, ["标为已读"]), ("未读", True, ["标为已读"])]
    assert badge(after) == "3"
    unread_only = pages.get("/notifications", params={"filter": "unread"}).text
    assert [n["id"] for n in notices(unread_only)] == [listed[0]["id"], listed[2]["id"], listed[3]["id"]]
    assert len(pages.api.get("/api/v1/notifications", "th-amr.liaison", params={"unread": True}).json()) == 3

    # another user's notice, or none: nothing changes, nothing is told
    supervisors = pages.api.get("/api/v1/notifications", "th-amr.supervisor").json()
    for other in (str(supervisors[0]["id"]), "999999999", "abc"):
        refused = pages.client.post(f"/notifications/{other}/read", data={"csrf_token": csrf})
        assert refused.headers["location"] == "/notifications?done=missing", other
    assert all(not n["read"] for n in pages.api.get("/api/v1/notifications", "th-amr.supervisor").json())
    assert pages.client.post(f"/notifications/{listed[0]['id']}/read", data={"csrf_token": "forged"}).status_code == 403
    assert pages.client.post("/notifications/read-all", data={"csrf_token": ""}).status_code == 403
    assert badge(pages.get("/notifications").text) == "3"

    everything = pages.client.post("/notifications/read-all",
                                   data={"csrf_token": csrf, "back": "/notifications?filter=unread"})
    assert everything.headers["location"] == "/notifications?filter=unread&done=all"
    cleared = pages.get(everything.headers["location"]).text
    cleared_tree = lxml.html.fromstring(cleared)
    assert notices(cleared) == [] and text(cleared_tree.xpath('//p[@class="empty"]')[0]) == "暂无未读通知"
    assert text(cleared_tree.xpath('//p[@class="notice"]')[0]) == "已将全部通知标为已读"
    assert badge(cleared) is None and 'action="/notifications/read-all"' not in cleared
    assert {n["tag"] for n in notices(pages.get("/notifications").text)} == {"已读"}
    again = pages.client.post("/notifications/read-all", data={"csrf_token": csrf, "back": "https://evil.example/"})
    assert again.headers["location"] == "/notifications?done=none"  # nothing left; never another site


def test_notices_are_paged_twenty_at_a_time(pages: Pages) -> None:
    submitted = [pages.scenario.submit() for _ in range(21)]
    pages.api.travel(at("2026-11-25T09:00:00"))
    run_sweep(pages.scenario.product)  # 21 reminders
    pages.sign_in("th-amr.liaison")
    first = pages.get("/notifications").text
    assert len(notices(first)) == 20 and "第 1 页 / 共 2 页" in first
    assert '<a href="/notifications?page=2" rel="next">下一页 →</a>' in first
    second = pages.get("/notifications", params={"page": "2"}).text
    assert len(notices(second)) == 1 and '<a href="/notifications" rel="prev">← 上一页</a>' in second
    shown = {n["link"] for n in notices(first) + notices(second)}
    assert shown == {f"/complaints/{c.id}" for c in submitted}
    assert notices(pages.get("/notifications", params={"page": "x"}).text) == notices(first)
    assert notices(pages.get("/notifications", params={"page": "3"}).text) == []


def test_signed_out_visitors_are_sent_to_sign_in(pages: Pages) -> None:
    assert pages.get("/notifications").headers["location"] == "/login?next=/notifications"
    assert pages.client.post("/notifications/read-all", data={"csrf_token": "x"}).status_code == 303
