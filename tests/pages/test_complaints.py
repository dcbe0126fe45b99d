"""The complaint pages on SQLite and PostgreSQL, as a browser without JavaScript uses them: searching by
tracking number, phone, business, subject, status and dates (a wrong date told beside its field); a
complaint's file with its header, time limits, tasks, history, cases and the diagram's place; another
agency's complaint answered like a missing one; personal data shown as the agency's part allows."""

from __future__ import annotations

import re
from typing import Any

import lxml.html
import pytest

from agencies import labels
from agencies.masking import mask_id_number
from agencies.vocab import ComplaintStatus
from tests.pages.conftest import Pages
from tests.workflows.scenario import CONSENTED, ID_NUMBER, complaint_body
from web.pages.complaints import PAGE_SIZE

PERSON = complaint_body()["complainant"]
PHONE = PERSON["phone"]
LINQUAN_BUSINESS = {"name": "临泉县某某超市", "region_code": "341221", "address": "安徽省阜阳市临泉县城关镇解放路2号"}
FRIDGE: dict[str, Any] = {"subject": "冰箱噪音大", "business": {"name": "太和县某某家电超市", "region_code": "341222"},
          "complainant": {**PERSON, "name": "欧阳娜娜", "phone": "0558-8123456"},
          "received_at": "2026-11-10T15:00:00+08:00"}
VIOLATION = {"outcome": "agreement", "summary": "达成一致", "agreement_text": "退款", "violation_found": True,
             "violation_description": "销售不合格空调"}


def html_of(pages: Pages, path: str, expected: int = 200, /, **params: str) -> str:
    response = pages.get(path, params=params or None)
    assert response.status_code == expected, response.text
    return response.text


def results(html: str) -> list[dict[str, str]]:
    """The result table's rows, cell by cell (class → text), plus the link of the tracking number."""
    tree = lxml.html.fromstring(html)
    found = []
    for row in tree.xpath('//table[contains(@class, "complaint-list")]/tbody/tr'):
        cells = {cell.get("class"): " ".join(cell.text_content().split()) for cell in row.xpath("td")}
        [link] = row.xpath('td[@class="tracking-no"]/a')
        found.append({**cells, "href": link.get("href")})
    return found


def numbers(pages: Pages, **params: str) -> list[str]:
    return [row["tracking-no"] for row in results(html_of(pages, "/complaints", **params))]


def facts(html: str) -> dict[str, str]:
    tree = lxml.html.fromstring(html)
    return {" ".join(div.xpath("dt")[0].text_content().split()): " ".join(div.xpath("dd")[0].text_content().split())
            for div in tree.xpath('//dl[@class="facts"]/div')}


def texts(html: str, xpath: str) -> list[str]:
    return [" ".join(node.text_content().split()) for node in lxml.html.fromstring(html).xpath(xpath)]


def test_search_by_tracking_number_phone_business_subject_status_and_dates(pages: Pages) -> None:
    fridge = pages.api.submit(**FRIDGE)  # received on the 10th, by th-amr
    aircon = pages.api.submit()  # received on the 18th (now)
    elsewhere = pages.scenario.submit(received_by=None, business=LINQUAN_BUSINESS)  # Linquan's, same phone
    pages.api.act("th-amr.liaison", "review", fridge["id"], {"decision": "reject", "reason": "证据不足",
                                                            "ground": "not_consumer_dispute", "violation_found": False})
    pages.sign_in("th-amr.liaison")

    html = html_of(pages, "/complaints")
    listed = results(html)
    assert [r["tracking-no"] for r in listed] == [aircon["tracking_no"], fridge["tracking_no"]]  # newest first
    assert listed[0] == {"tracking-no": aircon["tracking_no"], "subject": "空调制冷故障", "complainant": "张*",
                         "business": "太和县某某电器商行", "status": "待受理", "received": "2026年11月18日",
                         "agency": "太和县市场监督管理局", "href": f"/complaints/{aircon['id']}"}
    assert listed[1]["complainant"] == "欧***" and listed[1]["status"] == "不予受理"
    assert "共 2 件" in html and elsewhere.tracking_no not in html
    assert "张三" not in html and PHONE not in html  # a list masks the complainant

    assert numbers(pages, q=aircon["tracking_no"]) == [aircon["tracking_no"]]
    assert numbers(pages, q=aircon["tracking_no"][-8:].lower()) == [aircon["tracking_no"]]
    for typed in (PHONE, "138 1234 5678", "+86 138-1234-5678"):  # the phone, whole, as people type it
        assert numbers(pages, q=typed) == [aircon["tracking_no"]], typed  # not Linquan's with the same phone
    assert numbers(pages, q="0558 8123456") == [fridge["tracking_no"]]
    part = PHONE[:9]
    assert numbers(pages, q=part) == [n for n in (aircon["tracking_no"], fridge["tracking_no"]) if part in n]
    assert numbers(pages, q="家电超市") == [fridge["tracking_no"]]  # business
    assert numbers(pages, q="冰箱") == [fridge["tracking_no"]]  # subject
    assert numbers(pages, q="%") == []  # a wildcard is a character like any other

    assert numbers(pages, status="rejected") == [fridge["tracking_no"]]
    assert numbers(pages, status="closed") == []
    assert numbers(pages, status="pending_acceptance") == [aircon["tracking_no"]]
    assert numbers(pages, status="no-such-status") == numbers(pages)  # an unknown status: no filter
    assert numbers(pages, received_from="2026-11-11") == [aircon["tracking_no"]]
    assert numbers(pages, received_to="2026-11-10") == [fridge["tracking_no"]]
    assert numbers(pages, received_from="2026-11-10", received_to="2026-11-10", q="冰箱") == [fridge["tracking_no"]]
    nothing = html_of(pages, "/complaints", q="没有这种投诉")
    assert '<p class="empty">没有符合条件的投诉件</p>' in nothing

    form = lxml.html.fromstring(html_of(pages, "/complaints", q="冰箱", status="closed", received_from="2026-11-01"))
    assert form.xpath('//input[@name="q"]/@value') == ["冰箱"]
    assert form.xpath('//select[@name="status"]/option[@selected]/text()') == ["已办结"]
    assert form.xpath('//input[@name="received_from"]/@type') == ["date"]
    assert form.xpath('//input[@name="received_from"]/@value') == ["2026-11-01"]


@pytest.mark.parametrize(("params", "field", "message"), [
    ({"received_from": "2026-13-45"}, "received_from", "登记日期（起）不是有效的日期，请按 2026-11-18 的格式填写"),
    ({"received_to": "昨天"}, "received_to", "登记日期（止）不是有效的日期，请按 2026-11-18 的格式填写"),
    ({"received_from": "1800-01-01"}, "received_from", "登记日期（起）须在 1949年10月1日 至 2100年12月31日 之间"),
    ({"received_from": "2026-11-20", "received_to": "2026-11-19"}, "received_to",
     "登记日期（止）不能早于登记日期（起）"),
    ({"q": "空" * 101}, "q", "查询内容最多 100 个字"),
])
def test_a_wrong_search_field_is_told_beside_it(pages: Pages, params: dict[str, str], field: str,
                                                message: str) -> None:
    pages.api.submit()
    pages.sign_in("th-amr.liaison")
    html = html_of(pages, "/complaints", 422, **params)
    tree = lxml.html.fromstring(html)
    assert texts(html, '//div[@class="error-summary"]/h2') == ["请更正以下 1 项"]
    assert tree.xpath('//div[@class="error-summary"]//a/@href') == [f"#{field}"]
    assert texts(html, f'//p[@id="{field}-error"]') == [message]
    assert tree.xpath(f'//input[@id="{field}"]/@aria-describedby') == [f"{field}-error"]
    assert tree.xpath(f'//input[@id="{field}"]/@value') == [params[field]]  # kept as typed
    assert results(html) == []


def test_paging_fifty_at_a_time_keeps_the_search(pages: Pages) -> None:
    for _ in range(PAGE_SIZE + 1):
        pages.scenario.submit()
    pages.sign_in("th-amr.liaison")
    first = html_of(pages, "/complaints", q="空调")
    assert len(results(first)) == PAGE_SIZE and "第 1 页 / 共 2 页" in first and "共 51 件" in first
    assert '<a href="/complaints?q=%E7%A9%BA%E8%B0%83&amp;page=2" rel="next">' in first
    second = html_of(pages, "/complaints", q="空调", page="2")
    assert len(results(second)) == 1 and '<a href="/complaints?q=%E7%A9%BA%E8%B0%83" rel="prev">' in second
    assert {r["href"] for r in results(first)}.isdisjoint(r["href"] for r in results(second))
    assert results(html_of(pages, "/complaints", q="空调", page="abc")) == results(first)


def test_a_complaints_file(pages: Pages) -> None:
    submitted = pages.api.submit()
    cid = submitted["id"]
    review = pages.api.task("th-amr.liaison", "review", cid)
    pages.sign_in("th-amr.liaison")
    html = html_of(pages, f"/complaints/{cid}")
    tree = lxml.html.fromstring(html)

    assert texts(html, "//h1") == [f"{submitted['tracking_no']} 待受理"]
    assert texts(html, '//ul[@class="head-facts"]/li') == ["承办单位：太和县市场监督管理局",
                                                          "受理期限：2026年11月27日 正常"]
    assert facts(html) | {"登记时间": ""} == {
        "投诉编号": submitted["tracking_no"], "类型": "投诉", "类别": "质量", "登记时间": "",
        "登记单位": "太和县市场监督管理局", "承办单位": "太和县市场监督管理局",
        "参与单位": "太和县市场监督管理局（承办）", "投诉人": "张三", "联系电话": PHONE,
        "身份证号码": ID_NUMBER, "电子邮箱": "zhangsan@example.com", "被投诉经营者": "太和县某某电器商行",
        "统一社会信用代码": "—", "经营者所在地区": "安徽省阜阳市太和县",
        "经营地址": "安徽省阜阳市太和县城关镇人民路1号", "所属平台": "—", "事项": "空调制冷故障",
        "涉及金额": "¥3,299.00", "发生日期": "—"}
    assert facts(html)["登记时间"] == "2026年11月18日 09:30"
    assert texts(html, '//p[@class="description"]') == ["购买的空调一周后不制冷，商家拒绝维修。"]
    [task_row] = tree.xpath('//table[contains(@class, "complaint-tasks")]/tbody/tr')
    assert task_row.xpath('td[@class="title"]/a/@href') == [f"/tasks/{review['id']}"]
    assert " ".join(task_row.text_content().split()) == (
        "受理审查 太和县市场监督管理局 未认领 受理期限：2026年11月27日 正常")
    assert texts(html, '//ol[@class="timeline"]/li/span[@class="what"]') == ["启动投诉处理流程"]
    assert texts(html, '//section[@id="cases"]//p[@class="empty"]') == ["暂无关联案件"]
    [box] = tree.xpath('//div[@id="diagram"]')
    assert box.get("data-diagram-url") == f"/complaints/{cid}/diagram.json"
    assert " ".join(box.text_content().split()) == "流程图需要启用 JavaScript 才能显示，本页其他内容不受影响。"
    assert tree.xpath('//script/@src') == ["/static/vendor/htmx/htmx.min.js",
                                           "/static/vendor/bpmn-js/bpmn-navigated-viewer.production.min.js",
                                           "/static/app/diagram-kit.js",
                                           "/static/app/diagram.js"]
    assert not tree.xpath("//script[not(@src)]") and not tree.xpath("//*[@style]")
    for asset in tree.xpath('//script/@src | //link[@rel="stylesheet"]/@href'):
        assert pages.get(asset).status_code == 200, asset


def test_the_mediation_time_limit_and_a_linked_case_are_on_the_page(pages: Pages) -> None:
    cid = pages.api.submit()["id"]
    pages.api.act("th-amr.liaison", "review", cid, {"decision": "accept"})
    pages.api.act("th-amr.liaison", "arrange_mediation", cid, {**CONSENTED, "mediator": "self"})
    pages.sign_in("th-amr.liaison")
    html = html_of(pages, f"/complaints/{cid}")
    assert texts(html, '//ul[@class="head-facts"]/li[@class="timer"]') == ["调解期限：2027年1月18日"]
    assert "完成「确定调解方式」" in texts(html, '//ol[@class="timeline"]/li/span[@class="what"]')

    pages.api.act("th-amr.liaison", "mediate", cid, VIOLATION)
    pages.api.act("th-amr.liaison", "verify_clue", cid, {"decision": "file", "reason": "立案查处"})
    pages.api.act("th-amr.supervisor", "decide_filing", cid, {"decision": "file", "reason": "同意立案"})
    html = html_of(pages, f"/complaints/{cid}")
    assert texts(html, '//ul[@class="head-facts"]/li[@class="timer"]') == []  # mediation ended
    [case] = pages.scenario.cases(pages.scenario.complaint(cid))
    assert texts(html, '//table[contains(@class, "complaint-cases")]/tbody/tr') == [
        f"{case.case_no} 太和县市场监督管理局 2026年11月18日 已立案"]
    titles = texts(html, '//table[contains(@class, "complaint-tasks")]/tbody/tr/td[@class="title"]')
    assert sorted(titles) == ["办结", "案件调查"]


def test_a_mediator_sees_the_complainants_contact_but_not_the_id_number(pages: Pages) -> None:
    cid = pages.api.submit()["id"]
    pages.api.act("th-amr.liaison", "review", cid, {"decision": "accept"})
    pages.api.act("th-amr.liaison", "arrange_mediation", cid,
                  {**CONSENTED, "mediator": "consumer_association", "mediator_agency": "th-cca"})
    mediate = pages.api.task("th-cca.liaison", "association_mediate", cid)

    def seen_by(username: str) -> tuple[dict[str, str], Any]:
        pages.sign_out_locally()
        pages.sign_in(username)
        html = html_of(pages, f"/complaints/{cid}")
        api = pages.api.get(f"/api/v1/complaints/{cid}", username).json()
        shown = facts(html)
        assert (shown["联系电话"], shown["身份证号码"], shown["电子邮箱"]) == (
            api["complainant_phone"], api["complainant_id_number"], api["complainant_email"])  # as the API
        return shown, lxml.html.fromstring(html)

    association, tree = seen_by("th-cca.liaison")
    assert (association["联系电话"], association["身份证号码"]) == (PHONE, mask_id_number(ID_NUMBER))
    assert ID_NUMBER not in lxml.html.tostring(tree, encoding="unicode")
    assert tree.xpath('//td[@class="title"]/a/@href') == [f"/tasks/{mediate['id']}"]  # its own task, linked
    assert texts(lxml.html.tostring(tree, encoding="unicode"), '//li[@class="timer"]') == ["调解期限：2027年1月18日"]

    regulator, tree = seen_by("th-amr.liaison")
    assert (regulator["联系电话"], regulator["身份证号码"]) == (PHONE, ID_NUMBER)
    assert tree.xpath('//td[@class="title"]/a') == []  # another agency's task: named, not linked
    assert regulator["参与单位"] == "太和县市场监督管理局（承办）、太和县消费者协会（参与办理）"


def test_another_agencys_complaint_is_not_found_like_a_missing_one(pages: Pages) -> None:
    elsewhere = pages.scenario.submit(received_by=None, business=LINQUAN_BUSINESS)
    mine = pages.api.submit()
    pages.sign_in("th-amr.liaison")
    for path in (f"/complaints/{elsewhere.id}", "/complaints/999999", "/complaints/abc", "/complaints/0",
                 "/complaints/99999999999999999999"):
        html = html_of(pages, path, 404)
        assert texts(html, "//h1") == ["未找到投诉件"], path
        assert elsewhere.tracking_no not in html
    for path in (f"/complaints/{elsewhere.id}/diagram.json", "/complaints/999999/diagram.json"):
        response = pages.get(path)
        assert (response.status_code, response.json()) == (404, {"detail": "未找到"}), path
    assert pages.get(f"/complaints/{mine['id']}/diagram.json").status_code == 200

    pages.sign_out_locally()
    pages.sign_in("lq-amr.liaison")
    assert numbers(pages) == [elsewhere.tracking_no]
    assert html_of(pages, f"/complaints/{mine['id']}", 404)


def test_the_page_reads_the_same_diagram_as_the_api_with_its_session_cookie(pages: Pages) -> None:
    cid = pages.api.submit()["id"]
    pages.sign_in("th-amr.liaison")
    page = pages.get(f"/complaints/{cid}/diagram.json")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert page.json() == pages.api.get(f"/api/v1/complaints/{cid}/diagram", "th-amr.liaison").json()
    assert page.json()["current"] == ["review"]


def test_signed_out_the_pages_go_to_the_sign_in_page_and_the_diagram_answers_401(pages: Pages) -> None:
    cid = pages.api.submit()["id"]
    for path in ("/complaints?q=1", f"/complaints/{cid}"):
        response = pages.get(path)
        assert response.status_code == 303 and response.headers["location"].startswith("/login?next=/complaints")
    response = pages.get(f"/complaints/{cid}/diagram.json")
    assert (response.status_code, response.json()) == (401, {"detail": "未登录或登录已过期"})
    pages.sign_in("admin")  # no agency: nothing to search
    assert "系统管理员账号不属于任何机构" in html_of(pages, "/complaints", 403)


def test_every_complaint_status_reads_in_chinese() -> None:
    lifecycle = ["registered", "negotiating", "pending_acceptance", "accepted", "transferred", "rejected",
                 "mediating", "settled", "agreement", "terminated", "not_mediated", "closed"]
    for status in [*lifecycle, *ComplaintStatus]:
        assert re.fullmatch(r"[\u4e00-\u9fff]+", labels.status_label(status)), status
    assert [labels.status_label(s) for s in ("registered", "closed", "agreement")] == ["已登记", "已办结", "调解成功"]
    assert labels.status_label("some_new_state") == "办理中"  # never the English code
    assert labels.same_status("mediating") == ["mediating", "in_mediation"]  # one word, one filter choice
    assert len({label for _status, label in labels.status_choices()}) == len(labels.status_choices())
    assert labels.deadline_label("mediation") == labels.deadline_label(None, "调解期限届满") == "调解期限"
