"""The complainant answers a business's settlement offer on the tracking page: shown with the status, two
buttons, a redirect after the answer (PRG, the code never in a URL), refusals in Chinese."""

from __future__ import annotations

import lxml.html

from tests.pages.conftest import Pages, csrf_of
from tests.pages.test_public import result_of, submit, text_of, track
from tests.workflows.scenario import BUSINESS_USER, ODR_BUSINESS

OFFER = {"response": "settle", "offer": "更换同型号新机，并补偿 200 元", "explanation": "经检测压缩机故障"}
ENROLLED = {"business.name": ODR_BUSINESS["name"], "business.uscc": ODR_BUSINESS["uscc"],
            "business.address": ODR_BUSINESS["address"]}


def offered(pages: Pages) -> tuple[str, str, int]:
    number, code = submit(pages, **ENROLLED)
    complaint_id = pages.scenario.complaint_by_tracking(number)
    pages.scenario.business_do("business_respond", OFFER, pages.scenario.complaint(complaint_id))
    return number, code, complaint_id


def decision_form(html: str) -> dict[str, str]:
    tree = lxml.html.fromstring(html)
    return {name: value for name, value in zip(tree.xpath('//form[@action="/public/track/decision"]//input/@name'),
                                               tree.xpath('//form[@action="/public/track/decision"]//input/@value'),
                                               strict=True)}


def test_the_offer_is_shown_and_accepting_it_settles_the_complaint(pages: Pages) -> None:
    number, code, complaint_id = offered(pages)
    tracked = track(pages, number, code)
    assert tracked.status_code == 200
    assert text_of(tracked.text, '//blockquote[@class="offer-text"]') == [OFFER["offer"]]
    assert "请于2026年12月2日前作出选择" in tracked.text
    assert result_of(tracked.text)["当前状态"] == "协商和解中"
    hidden = decision_form(tracked.text)
    assert hidden["tracking_no"] == number and hidden["code"] == code and hidden["csrf_token"]

    answered = pages.client.post("/public/track/decision", data={**hidden, "accept": "true"})
    assert answered.status_code == 303 and answered.headers["location"] == "/public/track"
    assert code not in answered.headers["location"]
    shown = pages.get("/public/track")
    assert "您已接受经营者的和解方案，双方和解，本投诉办结。" in shown.text
    assert result_of(shown.text)["当前状态"] == "已和解"
    assert decision_form(shown.text) == {}  # nothing left to answer
    assert pages.scenario.complaint(complaint_id).status == "settled"
    again = pages.get("/public/track")  # the cookie is spent: the empty form again
    assert "已和解" not in again.text

    late = pages.client.post("/public/track/decision", data={**hidden, "accept": "false"})
    assert late.status_code == 409 and "当前没有待您确认的和解方案" in late.text
    assert pages.scenario.complaint(complaint_id).status == "settled"


def test_declining_sends_the_complaint_to_the_regulator(pages: Pages) -> None:
    number, code, complaint_id = offered(pages)
    hidden = decision_form(track(pages, number, code).text)
    answered = pages.client.post("/public/track/decision", data={**hidden, "accept": "false"})
    assert answered.status_code == 303
    shown = pages.get("/public/track")
    assert "本投诉转由市场监管部门依法审查是否受理" in shown.text
    assert result_of(shown.text)["当前状态"] == "待受理"
    assert pages.scenario.open_task_names(pages.scenario.complaint(complaint_id)) == ["review"]


def test_refusals_change_nothing(pages: Pages) -> None:
    number, code, complaint_id = offered(pages)
    hidden = decision_form(track(pages, number, code).text)
    no_choice = pages.client.post("/public/track/decision", data=hidden)
    assert no_choice.status_code == 422 and "请选择“接受”或“不接受”和解方案" in no_choice.text
    forged = pages.client.post("/public/track/decision", data={**hidden, "csrf_token": "forged", "accept": "true"})
    assert forged.status_code == 403
    wrong = pages.client.post("/public/track/decision", data={**hidden, "code": "ZZZZ9999", "accept": "true"})
    assert wrong.status_code == 404 and "投诉编号或查询码不正确" in wrong.text
    assert pages.scenario.complaint(complaint_id).status == "negotiating"
    assert csrf_of(no_choice.text)  # the page still offers the answer
    assert BUSINESS_USER not in no_choice.text
