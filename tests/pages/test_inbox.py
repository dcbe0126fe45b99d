"""The inbox page: the agency's open tasks and no other agency's, soonest deadline first, masked names,
dates in Chinese, deadline states in words, filters and paging."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import lxml.html
import pytest

from agencies.masking import mask_name
from engine.clock import SHANGHAI
from engine.deadlines.calendar import WorkdayCalendar
from tests.pages.conftest import Pages
from tests.workflows.scenario import START, complaint_body
from web.pages.inbox import PAGE_SIZE, deadline_state

PERSON = complaint_body()["complainant"]
LINQUAN_BUSINESS = {"name": "临泉县某某超市", "region_code": "341221", "address": "安徽省阜阳市临泉县城关镇解放路2号"}


def rows(html: str) -> list[dict[str, Any]]:
    """The inbox table's rows, cell by cell (class → text), plus the task link."""
    tree = lxml.html.fromstring(html)
    found = []
    for row in tree.xpath('//table[@class="inbox"]/tbody/tr'):
        cells = {cell.get("class"): " ".join(cell.text_content().split()) for cell in row.xpath("td")}
        [link] = row.xpath('td[@class="title"]/a')
        [tag] = row.xpath('td[@class="deadline"]/span[contains(@class, "tag")]')
        found.append({**cells, "href": link.get("href"), "tag": tag.get("class"), "tag_text": tag.text})
    return found


def inbox(pages: Pages, **params: str) -> str:
    response = pages.get("/tasks", params=params)
    assert response.status_code == 200, response.text
    return response.text


def test_the_inbox_lists_the_agencys_open_tasks_masked_and_dated_in_chinese(pages: Pages) -> None:
    first = pages.api.submit()
    pages.api.travel(START + timedelta(days=1))
    second = pages.api.submit(complainant={**PERSON, "name": "欧阳娜娜", "phone": "13912345678"})
    other = pages.scenario.submit(received_by=None, business=LINQUAN_BUSINESS,
                                  complainant={**PERSON, "name": "李四", "phone": "13700001111"})
    assert [t.task_name for t in pages.scenario.inbox("lq-amr")] == ["review"]  # routed to Linquan

    pages.sign_in("th-amr.liaison")
    html = inbox(pages)
    listed = rows(html)
    assert [r["tracking-no"] for r in listed] == [first["tracking_no"], second["tracking_no"]]  # by deadline
    assert [r["complainant"] for r in listed] == ["张*", "欧***"]
    assert "张三" not in html and "欧阳娜娜" not in html and "13812345678" not in html
    assert other.tracking_no not in html and "李" not in html  # another agency's task is not listed
    review = pages.scenario.task("th-amr", "review", pages.scenario.complaint(first["id"]))
    assert listed[0] == {"deadline": "2026年11月27日 正常", "subject": "空调制冷故障",
                         "tracking-no": first["tracking_no"], "complainant": "张*", "title": "受理审查",
                         "assignee": "未认领", "href": f"/tasks/{review.id}", "tag": "tag tag-ok", "tag_text": "正常"}
    assert '<p class="count">共 2 项</p>' in html

    pages.sign_out_locally()
    pages.sign_in("lq-amr.liaison")
    assert [r["tracking-no"] for r in rows(inbox(pages))] == [other.tracking_no]
    assert rows(inbox(pages))[0]["complainant"] == "李*"


def test_filters_mine_unassigned_and_overdue(pages: Pages) -> None:
    submitted = [pages.api.submit() for _ in range(3)]
    claimed = pages.api.task("th-amr.liaison", "review", submitted[1]["id"])
    assert pages.api.post(f"/api/v1/tasks/{claimed['id']}/claim", "th-amr.liaison").status_code == 204
    pages.sign_in("th-amr.liaison")

    everything = rows(inbox(pages))
    assert len(everything) == 3
    [mine] = rows(inbox(pages, filter="mine"))
    assert mine["href"] == f"/tasks/{claimed['id']}" and mine["assignee"] == "太和县市场监督管理局联络员"
    assert [r["href"] for r in rows(inbox(pages, filter="unassigned"))] == [
        r["href"] for r in everything if r["href"] != mine["href"]]
    none_yet = inbox(pages, filter="overdue")
    assert '<p class="empty">暂无待办任务</p>' in none_yet and '<table class="inbox">' not in none_yet
    assert '<a href="/tasks?filter=overdue" aria-current="page">已超期</a>' in none_yet
    assert rows(inbox(pages, filter="whatever")) == everything  # an unknown filter shows everything

    pages.scenario.clock.set(datetime(2026, 11, 28, 9, 0, tzinfo=SHANGHAI))  # the day after the deadline
    pages.sign_in("th-amr.liaison")  # the eight-hour session has ended meanwhile
    overdue = rows(inbox(pages, filter="overdue"))
    assert len(overdue) == 3 and {(r["tag"], r["tag_text"]) for r in overdue} == {("tag tag-overdue", "已超期")}
    [mine] = rows(inbox(pages, filter="mine"))
    assert mine["deadline"] == "2026年11月27日 已超期"


def test_the_inbox_pages_fifty_tasks_at_a_time_keeping_the_filter(pages: Pages) -> None:
    for _ in range(PAGE_SIZE + 1):
        pages.scenario.submit()
    pages.sign_in("th-amr.liaison")
    first = inbox(pages, filter="unassigned")
    assert len(rows(first)) == PAGE_SIZE and "第 1 页 / 共 2 页" in first and "共 51 项" in first
    assert '<a href="/tasks?filter=unassigned&amp;page=2" rel="next">下一页 →</a>' in first
    assert 'rel="prev"' not in first
    second = inbox(pages, filter="unassigned", page="2")
    assert len(rows(second)) == 1 and "第 2 页 / 共 2 页" in second and 'rel="next"' not in second
    assert '<a href="/tasks?filter=unassigned" rel="prev">← 上一页</a>' in second
    assert {r["href"] for r in rows(first)}.isdisjoint(r["href"] for r in rows(second))
    for odd in ("0", "-1", "abc", "99999999999"):  # what an address bar may hold: the first page
        assert rows(inbox(pages, page=odd)) == rows(first), odd
    beyond = inbox(pages, page="3")
    assert '<p class="empty">暂无待办任务</p>' in beyond and '<a href="/tasks?page=2" rel="prev">' in beyond


@pytest.mark.parametrize(("now", "suspended", "provisional", "expected"), [
    (datetime(2026, 11, 24, 23, 59, tzinfo=SHANGHAI), False, False, ("ok", "正常")),
    # the reminder goes out at the start of the working day 2 working days before the last day (Fri 27th)
    (datetime(2026, 11, 25, 0, 0, tzinfo=SHANGHAI), False, False, ("due-soon", "即将到期")),
    (datetime(2026, 11, 27, 23, 59, tzinfo=SHANGHAI), False, True, ("due-soon", "即将到期")),
    (datetime(2026, 11, 20, 9, 0, tzinfo=SHANGHAI), False, True, ("provisional", "期限待定")),
    (datetime(2026, 11, 28, 0, 0, tzinfo=SHANGHAI), False, False, ("overdue", "已超期")),
    (datetime(2026, 11, 28, 0, 0, tzinfo=SHANGHAI), True, False, ("suspended", "暂停计时")),
])
def test_a_deadlines_state_in_words(now: datetime, suspended: bool, provisional: bool,
                                    expected: tuple[str, str]) -> None:
    due_at = datetime(2026, 11, 27, 23, 59, 59, tzinfo=SHANGHAI)
    state = deadline_state(due_at, suspended, provisional, now, WorkdayCalendar())
    assert (state.css, state.label) == expected
    assert deadline_state(None, False, False, now, WorkdayCalendar()).label == "无期限"


def test_names_are_masked_to_their_first_character() -> None:
    assert [mask_name(n) for n in ("张三", "欧阳娜娜", "李", " 王五 ", "")] == ["张*", "欧***", "*", "王*", "*"]
