"""The workspace of a business's own user (经营者): signing in lands on the business's inbox, the
经营者答复 task answered from its page (the complaint masked as the business may see it, the form's errors
beside the field), the complaints against the business, another business's complaint a 404, the staff pages
a 403; and the regulator's liaison never sees the business's task."""

from __future__ import annotations

import httpx
from lxml.html import HtmlElement
from sqlalchemy import select

from agencies.tables import Complaint
from notifications.tables import OutboxMessage
from tests.pages.conftest import Pages, csrf_of, one, text, tree
from tests.workflows.scenario import BUSINESS_USER, ID_NUMBER, ODR_BUSINESS

LIAISON = "th-amr.liaison"
OFFER = "全额退款 3299 元，三个工作日内到账"
EXPLANATION = "经检测压缩机故障，同意退货"
STAFF_PAGES = ("/complaints", "/complaints/new", "/supervision", "/supervision/overdue", "/supervision/escalations",
               "/admin/workflows", "/admin/businesses")


def against_the_business(pages: Pages) -> Complaint:
    """A complaint from the public form against the demo's enrolled business: it starts at 经营者答复."""
    return pages.scenario.submit(received_by=None, business=ODR_BUSINESS)


def business_task_id(pages: Pages, complaint: Complaint) -> str:
    [task] = [t for t in pages.scenario.inbox(f"business:{complaint.business_id}", complaint)
              if t.task_name == "business_respond"]
    return task.id


def sent(pages: Pages, complaint: Complaint, template: str) -> list[OutboxMessage]:
    with pages.scenario.product.reader() as uow:
        return list(uow.session.scalars(select(OutboxMessage).where(
            OutboxMessage.complaint_id == complaint.id, OutboxMessage.template == template)))


def submit(pages: Pages, task_id: str, answers: dict[str, str]) -> httpx.Response:
    token = csrf_of(pages.get(f"/tasks/{task_id}").text)
    response: httpx.Response = pages.client.post(f"/tasks/{task_id}/complete", data={"csrf_token": token, **answers})
    return response


def nav_of(page: HtmlElement) -> list[tuple[str, str]]:
    return [(a.get("href"), text(a)) for a in page.xpath('//nav[@class="sidebar"]//a')]


def test_the_business_answers_its_complaint_with_a_settlement_offer(pages: Pages) -> None:
    complaint = against_the_business(pages)
    task_id = business_task_id(pages, complaint)

    signed_in = pages.login(BUSINESS_USER)
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/business/complaints"
    assert pages.get("/").headers["location"] == "/business/complaints"  # its complaints, the ones to answer linked
    inbox = tree(pages.get("/tasks").text)
    assert text(one(inbox, '//header//span[@class="agency"]')) == ODR_BUSINESS["name"]  # where staff see their agency
    assert "（经营者）" in text(one(inbox, '//header//span[@class="user"]'))
    assert nav_of(inbox) == [("/tasks", "待办任务"), ("/business/complaints", "投诉件（本单位）"),
                             ("/notifications", "通知")]
    [row] = inbox.xpath('//table[@class="inbox"]/tbody/tr')
    assert text(one(row, 'td[@class="deadline"]')) == "2026年12月2日 正常"  # 10 working days from 18 Nov
    assert text(one(row, 'td[@class="tracking-no"]')) == complaint.tracking_no
    assert text(one(row, 'td[@class="complainant"]')) == "张*"
    link = one(row, 'td[@class="title"]/a')
    assert (link.get("href"), text(link)) == (f"/tasks/{task_id}", "经营者答复")

    response = pages.get(f"/tasks/{task_id}")
    assert response.status_code == 200
    page = tree(response.text)
    box = one(page, '//section[contains(@class, "task-complaint")]')
    facts = {text(one(div, "dt")): text(one(div, "dd")) for div in box.xpath(".//dl/div")}
    # masked as GET /api/v1/business/complaints masks it: never the staff view, never the ID number
    assert facts["投诉人"] == "张* 138****5678" and facts["状态"] == "协商和解中"
    for whole in ("张三", "13812345678", "zhangsan@example.com", ID_NUMBER, ID_NUMBER[-4:]):
        assert whole not in response.text, whole
    assert one(box, ".//a").get("href") == f"/business/complaints/{complaint.id}"
    form = one(page, '//form[@id="task-form"]')
    assert [r.get("value") for r in form.xpath('.//input[@name="response"]')] == ["settle", "dispute"]
    assert [text(label) for label in form.xpath('.//div[@id="field-response-group"]//label')] == [
        "提出和解方案", "不同意投诉请求"]
    offer = one(form, './/div[@id="field-offer-group"]')  # shown by the page's script only for 提出和解方案
    assert "conditional" in offer.get("class") and offer.get("data-conditions") == (
        '[{"field": "response", "values": ["settle"]}]')
    # a business's user may claim; it stops no clock and hands nothing over while the task is unclaimed
    assert page.xpath('//form[@id="claim"]') and not page.xpath('//form[@id="suspend"]')
    assert not page.xpath('//form[@id="assign"]')

    # 提出和解方案 without the offer: 422, the message beside 和解方案, the answers kept
    refused = submit(pages, task_id, {"response": "settle", "explanation": EXPLANATION})
    assert refused.status_code == 422, refused.text
    again = tree(refused.text)
    group = one(again, '//div[@id="field-offer-group"]')
    assert "has-error" in group.get("class") and text(one(group, './/p[@class="field-error"]'))
    assert one(again, '//div[@id="error-summary"]//a').get("href") == "#field-offer"
    assert text(one(again, '//textarea[@name="explanation"]')) == EXPLANATION
    assert one(again, '//input[@name="response"][@value="settle"]').get("checked") is not None
    assert sent(pages, complaint, "odr_offer") == []

    done = submit(pages, task_id, {"response": "settle", "offer": OFFER, "explanation": EXPLANATION})
    assert done.status_code == 303 and done.headers["location"] == "/tasks?done=1"
    back = tree(pages.get("/tasks?done=1").text)
    assert text(one(back, '//p[@class="notice"]')) == "已提交"
    assert not back.xpath('//table[@class="inbox"]')  # nothing left to answer
    offers = sent(pages, complaint, "odr_offer")
    assert offers and all(OFFER in m.body_text for m in offers)  # the complainant is told of the offer

    listed = tree(pages.get("/business/complaints").text)
    [row] = listed.xpath('//table[contains(@class, "business-complaints")]/tbody/tr')
    assert text(one(row, 'td[@class="status"]')) == "协商和解中"
    assert text(one(row, 'td[@class="complainant"]')) == "张*"
    assert text(one(row, 'td[@class="received"]')) == "2026年11月18日"
    assert one(row, 'td[@class="tracking-no"]/a').get("href") == f"/business/complaints/{complaint.id}"

    detail = pages.get(f"/business/complaints/{complaint.id}")
    assert detail.status_code == 200
    seen = tree(detail.text)
    facts = {text(one(div, "dt")): text(one(div, "dd")) for div in seen.xpath('//section[@id="basic"]//dl/div')}
    assert (facts["投诉人"], facts["联系电话"], facts["电子邮箱"]) == ("张*", "138****5678", "z****@example.com")
    assert "身份证号码" not in facts and ID_NUMBER not in detail.text and ID_NUMBER[-4:] not in detail.text
    assert text(one(seen, '//p[@class="offer"]')) == OFFER
    assert text(one(seen, '//section[@id="tasks"]//p[@class="empty"]')) == "本单位暂无需要办理的事项"
    history = [text(li) for li in seen.xpath('//section[@id="progress"]//li')]
    assert history[-1].endswith("「经营者答复」已完成：提出和解方案")
    assert EXPLANATION not in " ".join(history)  # typed text stays out of the public-safe history


def test_the_business_sees_only_its_own_complaints(pages: Pages) -> None:
    ours = against_the_business(pages)
    other = pages.scenario.submit()  # 太和县某某电器商行, at the regulator's review
    review = pages.api.task(LIAISON, "review", other.id)["id"]
    pages.sign_in(BUSINESS_USER)

    listed = tree(pages.get("/business/complaints").text)
    assert [text(td) for td in listed.xpath('//td[@class="tracking-no"]')] == [ours.tracking_no]
    missing = pages.get("/business/complaints/999999")
    foreign = pages.get(f"/business/complaints/{other.id}")
    assert missing.status_code == foreign.status_code == 404
    assert text(one(tree(foreign.text), "//h1")) == text(one(tree(missing.text), "//h1")) == "未找到投诉件"
    assert other.tracking_no not in foreign.text
    assert pages.get(f"/tasks/{review}").status_code == 404  # another party's task, as a missing one


def test_the_staff_pages_refuse_a_business_user(pages: Pages) -> None:
    complaint = against_the_business(pages)
    pages.sign_in(BUSINESS_USER)
    for path in (*STAFF_PAGES, f"/complaints/{complaint.id}"):
        response = pages.get(path)
        assert response.status_code == 403, path
        page = tree(response.text)
        assert '<html lang="zh-CN">' in response.text and text(one(page, "//h1")), path
        assert complaint.tracking_no not in response.text, path

    pages.sign_out_locally()
    pages.sign_in(LIAISON)  # and the business's pages are not the staff's
    refused = pages.get(f"/business/complaints/{complaint.id}")
    assert refused.status_code == 403 and text(one(tree(refused.text), "//h1")) == "无权访问"
    assert pages.get("/business/complaints").status_code == 403


def test_the_regulator_does_not_see_the_business_task(pages: Pages) -> None:
    complaint = against_the_business(pages)
    task_id = business_task_id(pages, complaint)
    pages.sign_in(LIAISON)
    inbox = pages.get("/tasks")
    assert inbox.status_code == 200
    assert complaint.tracking_no not in inbox.text and task_id not in inbox.text
    assert pages.get(f"/tasks/{task_id}").status_code == 404
    staff_nav = nav_of(tree(inbox.text))
    assert ("/complaints/new", "登记投诉") in staff_nav
    assert ("/business/complaints", "投诉件（本单位）") not in staff_nav
