"""The supervisor's pages: the agency's open work by person with hand-overs, the overdue tasks and the
rungs of the ladder they climbed, the escalations received from the agencies below — for supervisors
only, driven through HTTP with the scenario's clock travelling and the real sweep firing the rungs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import lxml.html
import pytest

from complaintflow.jobs import run_sweep
from engine.clock import SHANGHAI
from tests.pages.conftest import Pages, csrf_of

LIAISON = "太和县市场监督管理局联络员"
SUPERVISOR = "太和县市场监督管理局负责人"
CITY_SUPERVISOR = "阜阳市市场监督管理局负责人"
LINQUAN_BUSINESS = {"name": "临泉县某某超市", "region_code": "341221", "address": "安徽省阜阳市临泉县城关镇解放路2号"}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def as_user(pages: Pages, username: str) -> None:
    pages.sign_out_locally()
    pages.sign_in(username)


def tree(pages: Pages, path: str, status: int = 200, **params: str) -> Any:
    response = pages.get(path, params=params or None)
    assert response.status_code == status, response.text
    return lxml.html.fromstring(response.text)


def text(node: Any) -> str:
    return " ".join(node.text_content().split())


def table(page: Any, css: str) -> list[dict[str, str]]:
    """A table's body rows: each cell's (or row header's) class → its text."""
    rows = page.xpath(f'//table[contains(concat(" ", @class, " "), " {css} ")]/tbody/tr')
    return [{cell.get("class") or cell.tag: text(cell) for cell in row.xpath("th|td")} for row in rows]


def workload(page: Any) -> dict[str, tuple[int, int, int]]:
    return {row["person"]: (int(row["num open"]), int(row["num overdue"]), int(row["num due-soon"]))
            for row in table(page, "workload")}


def task_ids(page: Any) -> dict[str, str]:
    """The agency task list: tracking number (or task title) → task id, from each task's link."""
    found = {}
    for row in page.xpath('//table[contains(@class, "agency-tasks")]/tbody/tr'):
        [link] = row.xpath('td[@class="title"]/a')
        found[text(row.xpath('td[@class="tracking-no"]')[0]) + " " + link.text] = link.get("href").rsplit("/", 1)[1]
    return found


def options(page: Any, task_id: str) -> list[str]:
    return [o.text for o in page.xpath(f'//select[@id="assign-{task_id}"]/option') if o.get("value")]


def extension_requested(pages: Pages) -> dict[str, Any]:
    """A report whose clue verification asked for more time: a 延期审批 task for the supervisor."""
    report = pages.api.submit(kind="report")
    pages.api.act("th-amr.liaison", "verify_clue", report["id"], {"decision": "extend", "reason": "需要调取外地证据"})
    return report


# ---------------------------------------------------------------- who may see them


@pytest.mark.parametrize("path", ["/supervision", "/supervision/overdue", "/supervision/escalations"])
def test_only_supervisors_see_the_supervision_pages(pages: Pages, path: str) -> None:
    assert pages.get(path).headers["location"] == f"/login?next={path}"  # signed out: sign in first
    pages.sign_in("th-amr.liaison")
    refused = tree(pages, path, 403)
    assert text(refused.xpath("//main//h1")[0]) == "无权访问"
    assert "督办页面仅供本单位负责人使用" in text(refused.xpath("//main")[0])
    assert not refused.xpath('//nav[@class="sidebar"]//a[@href="/supervision"]')  # nor in the navigation
    as_user(pages, "th-amr.supervisor")
    shown = tree(pages, path)
    assert shown.xpath(f'//nav[@class="sidebar"]//a[@href="{path}"]/@aria-current') == ["page"]


# ---------------------------------------------------------------- 本单位全部


def test_the_agencys_work_by_person_with_counts_and_extension_requests(pages: Pages) -> None:
    first = pages.api.submit()  # review due Fri 2026-11-27
    pages.api.travel(at("2026-11-18T10:30:00"))  # later the same day: same deadline, listed after it
    second = pages.api.submit()
    report = extension_requested(pages)
    claimed = pages.api.task("th-amr.liaison", "review", first["id"])
    assert pages.api.post(f"/api/v1/tasks/{claimed['id']}/claim", "th-amr.liaison").status_code == 204
    pages.api.travel(at("2026-11-26T09:00:00"))  # Thursday: the reviews' reminders went out yesterday
    third = pages.api.submit()  # due in seven working days: on time
    other = pages.scenario.submit(received_by=None, business=LINQUAN_BUSINESS)  # Linquan's: never shown

    pages.sign_in("th-amr.supervisor")
    page = tree(pages, "/supervision")
    assert workload(page) == {LIAISON: (1, 0, 1), SUPERVISOR: (0, 0, 0), "未认领": (3, 0, 1)}
    assert text(page.xpath('//p[@class="count"]')[0]) == "在办 4 项 · 已超期 0 项 · 即将到期 2 项"
    [request] = table(page, "requests")
    assert request["tracking-no"] == report["tracking_no"] and request["title"] == "延期审批"
    assert request["requested"] == "2026年11月18日" and request["assignee"] == "未认领"
    [approval_link] = page.xpath('//table[contains(@class, "requests")]//td[@class="title"]/a/@href')
    tasks = task_ids(page)
    assert approval_link == f"/tasks/{tasks[report['tracking_no'] + ' 延期审批']}"
    assert other.tracking_no not in lxml.html.tostring(page, encoding="unicode")
    listed = table(page, "agency-tasks")
    assert [r["tracking-no"] for r in listed] == [first["tracking_no"], second["tracking_no"], third["tracking_no"],
                                                 report["tracking_no"]]  # by deadline; the approval has none
    assert [r["deadline"] for r in listed] == ["2026年11月27日 即将到期", "2026年11月27日 即将到期",
                                               "2026年12月7日 正常", "— 无期限"]
    assert listed[0]["assignee"] == LIAISON and listed[1]["complainant"] == "张*"
    # hand-overs offer the active colleagues who may work the task's lane, not its holder
    assert options(page, tasks[first["tracking_no"] + " 受理审查"]) == [SUPERVISOR]
    assert sorted(options(page, tasks[second["tracking_no"] + " 受理审查"])) == sorted([LIAISON, SUPERVISOR])
    assert options(page, tasks[report["tracking_no"] + " 延期审批"]) == [SUPERVISOR]

    mine = tree(pages, "/supervision", assignee="th-amr.liaison")
    assert [r["tracking-no"] for r in table(mine, "agency-tasks")] == [first["tracking_no"]]
    assert text(mine.xpath('//h2[@id="tasks-heading"]')[0]) == f"{LIAISON}的任务"
    unclaimed = tree(pages, "/supervision", assignee="-")
    assert [r["tracking-no"] for r in table(unclaimed, "agency-tasks")] == [
        second["tracking_no"], third["tracking_no"], report["tracking_no"]]
    assert unclaimed.xpath('//tr[@class="current"]/th/a/@href') == ["/supervision?assignee=-#tasks"]

    pages.api.travel(at("2026-11-28T10:00:00"))  # the reviews' deadline has passed
    pages.sign_in("th-amr.supervisor")
    assert workload(tree(pages, "/supervision")) == {LIAISON: (1, 1, 0), SUPERVISOR: (0, 0, 0), "未认领": (3, 1, 0)}


def test_a_supervisor_hands_a_task_to_a_colleague(pages: Pages) -> None:
    submitted = pages.api.submit()
    pages.sign_in("th-amr.supervisor")
    page = pages.get("/supervision", params={"assignee": "-"})
    task_id = task_ids(lxml.html.fromstring(page.text))[submitted["tracking_no"] + " 受理审查"]
    form = {"csrf_token": csrf_of(page.text), "back": "/supervision?assignee=-", "username": "th-amr.liaison"}
    done = pages.client.post(f"/supervision/tasks/{task_id}/assign", data=form)
    assert done.status_code == 303 and done.headers["location"] == "/supervision?assignee=-&done=assigned"
    after = tree(pages, "/supervision", assignee="-", done="assigned")
    assert text(after.xpath('//p[@class="notice"]')[0]) == "已转交"
    assert table(after, "agency-tasks") == []  # no longer unclaimed
    assert workload(after)[LIAISON] == (1, 0, 0)
    assert pages.api.task("th-amr.liaison", "review", submitted["id"])["assignee"] == "th-amr.liaison"
    [row] = table(tree(pages, "/supervision"), "agency-tasks")
    assert row["assignee"] == LIAISON


def test_a_refused_hand_over_says_why_in_chinese_beside_the_task(pages: Pages) -> None:
    submitted = pages.api.submit()
    elsewhere = pages.scenario.submit(received_by=None, business=LINQUAN_BUSINESS)
    foreign = pages.scenario.task("lq-amr", "review", elsewhere)
    pages.sign_in("th-amr.supervisor")
    page = pages.get("/supervision")
    task_id = task_ids(lxml.html.fromstring(page.text))[submitted["tracking_no"] + " 受理审查"]
    csrf = csrf_of(page.text)

    def post(task: str, username: str, token: str = csrf) -> Any:
        return pages.client.post(f"/supervision/tasks/{task}/assign",
                                 data={"csrf_token": token, "back": "/supervision", "username": username})

    for username, message in (("", "请选择要转交的同事"), ("lq-amr.liaison", "所选同事不能办理该任务，请另选"),
                              ("nobody", "所选同事不能办理该任务，请另选")):
        refused = post(task_id, username)
        assert refused.status_code == 422, username
        page_tree = lxml.html.fromstring(refused.text)
        assert text(page_tree.xpath('//div[@class="error-summary"]/h2')[0]) == "请更正以下 1 项"
        assert page_tree.xpath('//div[@class="error-summary"]//a/@href') == [f"#assign-{task_id}"]
        assert text(page_tree.xpath(f'//p[@id="assign-{task_id}-error"]')[0]) == f"错误：{message}"
        assert page_tree.xpath(f'//select[@id="assign-{task_id}"]/@aria-invalid') == ["true"]
    # another agency's task answers as a task that no longer exists: nothing about it is revealed
    gone = post(foreign.id, "th-amr.liaison")
    assert gone.status_code == 404
    assert "操作未执行：该任务已办结或不存在，请刷新页面后查看" in text(lxml.html.fromstring(gone.text).xpath(
        '//p[@class="problem"]')[0])
    assert elsewhere.tracking_no not in gone.text
    stale = post(task_id, "th-amr.liaison", token="forged")
    assert stale.status_code == 403 and "请求已失效" in stale.text
    as_user(pages, "th-amr.liaison")  # a liaison may not use the supervisor's form at all
    liaison_page = pages.get("/tasks")
    assert post(task_id, "th-amr.liaison", token=csrf_of(liaison_page.text)).status_code == 403
    assert pages.api.task("th-amr.liaison", "review", submitted["id"])["assignee"] is None  # nothing changed
    assert pages.api.task("lq-amr.liaison", "review", elsewhere.id)["assignee"] is None


# ---------------------------------------------------------------- 超期督办 and 收到的督办


def overdue_for_a_week(pages: Pages) -> tuple[dict[str, Any], dict[str, Any]]:
    """Two reviews left alone: one due Fri 27 November, one due Tue 1 December; the sweep runs on the
    25th (a reminder), the 28th (overdue; the second's reminder) and 3 December (the first escalates to
    the city bureau, the second is overdue)."""
    first = pages.api.submit()
    pages.api.travel(at("2026-11-20T09:30:00"))
    second = pages.api.submit()
    for day in ("2026-11-25T09:00:00", "2026-11-28T09:00:00", "2026-12-03T09:00:00"):
        pages.api.travel(at(day))
        run_sweep(pages.scenario.product)
    return first, second


def test_overdue_tasks_most_overdue_first_with_the_rungs_they_climbed(pages: Pages) -> None:
    first, second = overdue_for_a_week(pages)
    pages.sign_in("th-amr.supervisor")
    page = tree(pages, "/supervision/overdue")
    rows = table(page, "overdue-tasks")
    assert [r["tracking-no"] for r in rows] == [first["tracking_no"], second["tracking_no"]]
    assert rows[0]["deadline"] == "超期 4 个工作日 2026年11月27日到期 已超期"  # Mon 30th to Thu 3rd
    assert rows[1]["deadline"] == "超期 2 个工作日 2026年12月1日到期 已超期"
    steps = [[text(li) for li in row.xpath('td[@class="steps"]//li')]
             for row in page.xpath('//table[contains(@class, "overdue-tasks")]/tbody/tr')]
    assert steps[0] == [f"2026年11月25日 09:00 已发送到期提醒（{LIAISON}）",
                        f"2026年11月28日 09:00 已发送超期告知（{LIAISON}、{SUPERVISOR}）",
                        f"2026年12月3日 09:00 已上报上级督办（{CITY_SUPERVISOR}）"]
    assert steps[1] == [f"2026年11月28日 09:00 已发送到期提醒（{LIAISON}）",
                        f"2026年12月3日 09:00 已发送超期告知（{LIAISON}、{SUPERVISOR}）",
                        "2026年12月5日 00:00 将上报上级督办"]  # once Fri 4th, the third working day, has ended
    assert text(page.xpath('//p[@class="count"]')[0]) == "本单位已超期任务共 2 项，超期最久的在前"
    assert rows[0]["title"] == "受理审查" and rows[0]["complainant"] == "张*"

    as_user(pages, "lq-amr.supervisor")  # another agency's overdue work is not listed
    assert table(tree(pages, "/supervision/overdue"), "overdue-tasks") == []


def test_the_city_bureau_receives_the_county_bureaus_escalation(pages: Pages) -> None:
    first, _second = overdue_for_a_week(pages)
    pages.sign_in("fy-amr.supervisor")
    page = tree(pages, "/supervision/escalations")
    [item] = table(page, "escalations")
    assert item["received"] == "2026年12月3日 09:00" and item["agency"] == "太和县市场监督管理局"
    assert item["subject"] == f"【督办】太和县市场监督管理局“受理审查”超期未办结空调制冷故障通知：{CITY_SUPERVISOR}"
    assert [text(span) for span in page.xpath('//td[@class="subject"]/span')] == ["空调制冷故障",
                                                                               f"通知：{CITY_SUPERVISOR}"]
    assert item["tracking-no"] == first["tracking_no"]
    assert not page.xpath('//td[@class="tracking-no"]//a')  # the city bureau is not involved in the complaint
    assert item["due"] == "2026年11月27日" and item["status"] == "已超期 仍未办结（未认领）"
    assert "13812345678" not in lxml.html.tostring(page, encoding="unicode")

    pages.api.act("th-amr.liaison", "review", first["id"], {"decision": "accept"})
    [item] = table(tree(pages, "/supervision/escalations"), "escalations")
    assert item["status"] == "已办结或已转出"

    for supervisor in ("th-amr.supervisor", "lq-amr.supervisor"):  # escalations go up, not sideways
        as_user(pages, supervisor)
        empty = tree(pages, "/supervision/escalations")
        assert table(empty, "escalations") == [] and text(empty.xpath('//p[@class="empty"]')[0]) == "暂未收到督办"


def test_an_escalation_of_a_complaint_the_bureau_is_involved_in_links_to_it(pages: Pages) -> None:
    """An escalation about a complaint the bureau is involved in (it registered it; Taihe, where the
    business is, handles it) links to the complaint's page."""
    submitted = pages.api.submit(user="fy-amr.liaison")
    for day in ("2026-11-25T09:00:00", "2026-11-28T09:00:00", "2026-12-03T09:00:00"):
        pages.api.travel(at(day))
        run_sweep(pages.scenario.product)
    pages.sign_in("fy-amr.supervisor")
    page = tree(pages, "/supervision/escalations")
    links = page.xpath('//td[@class="tracking-no"]/a')
    assert [(a.get("href"), a.text) for a in links] == [(f"/complaints/{submitted['id']}", submitted["tracking_no"])]
