"""The public pages over both databases: submit a complaint without signing in, see the tracking number and
code once, track it in Chinese (status, handling agency, next step with its deadline, milestones) with no
personal data; errors in Chinese beside their fields with the values kept; the same message for a wrong
number and a wrong code; the per-address limits; forms from elsewhere refused."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx
import lxml.html
from sqlalchemy import func, select

from agencies.tables import Complaint
from complaintflow import rate_limits
from complaintflow.services import limits
from tests.pages.conftest import Pages, csrf_of
from tests.pages.test_markup import assert_self_contained
from tests.workflows.scenario import START, complaint_body
from web.pages.public import RESULT_COOKIE, RESULT_MINUTES

BODY = complaint_body()
PERSON = BODY["complainant"]
BUSINESS = BODY["business"]
TESTCLIENT = "testclient"  # the address Starlette's test client reports


def form_values(**overrides: str) -> dict[str, str]:
    """The public form filled in as a person would, field by field (``complainant.phone`` …)."""
    values = {
        "kind": "complaint", "complainant.name": PERSON["name"], "complainant.phone": PERSON["phone"],
        "complainant.id_number": PERSON["id_number"], "complainant.email": PERSON["email"],
        "business.name": BUSINESS["name"], "business.region_code": BUSINESS["region_code"],
        "business.address": BUSINESS["address"], "business.uscc": "", "business.platform": "",
        "category": "quality", "subject": BODY["subject"], "description": BODY["description"],
        "amount": "3,299.00", "occurred_on": "2026-11-10",
    }
    values.update(overrides)
    return values


def open_form(pages: Pages) -> dict[str, str]:
    """The hidden fields of a freshly opened form (its CSRF token and submission key)."""
    response = pages.get("/public/complaints/new")
    assert response.status_code == 200, response.text
    [key] = lxml.html.fromstring(response.text).xpath('//input[@name="submission_key"]/@value')
    return {"csrf_token": csrf_of(response.text), "submission_key": key}


def post_complaint(pages: Pages, hidden: dict[str, str] | None = None, /, **overrides: str) -> httpx.Response:
    data = {**(hidden or open_form(pages)), **form_values(**overrides)}
    response: httpx.Response = pages.client.post("/public/complaints/new", data=data)
    return response


def submit(pages: Pages, **overrides: str) -> tuple[str, str]:
    """Submit the form, follow the 303 to the result page; (tracking number, code) as the page shows them."""
    response = post_complaint(pages, **overrides)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/public/complaints/submitted"
    result = pages.get("/public/complaints/submitted")
    assert result.status_code == 200
    tree = lxml.html.fromstring(result.text)
    [number] = tree.xpath('//dd[@class="tracking-no"]/text()')
    [code] = tree.xpath('//dd[@class="tracking-code"]/text()')
    return number, code


def track(pages: Pages, tracking_no: str, code: str, csrf: str | None = None) -> httpx.Response:
    if csrf is None:
        csrf = csrf_of(pages.get("/public/track").text)
    response: httpx.Response = pages.client.post("/public/track", data={
        "tracking_no": tracking_no, "code": code, "csrf_token": csrf})
    return response


def text_of(html: str, xpath: str) -> list[str]:
    return [" ".join(node.text_content().split()) for node in lxml.html.fromstring(html).xpath(xpath)]


def result_of(html: str) -> dict[str, str]:
    """The tracking answer: each term of the status list → its text."""
    tree = lxml.html.fromstring(html)
    return {" ".join(row.xpath("dt")[0].text_content().split()): " ".join(row.xpath("dd")[0].text_content().split())
            for row in tree.xpath('//section[@class="track-result"]//dl[@class="status-list"]/div')}


def field_errors(html: str) -> dict[str, str]:
    """The message beside each field: the input's name → the error shown in its field."""
    tree = lxml.html.fromstring(html)
    found = {}
    for field in tree.xpath('//div[contains(@class, "field-invalid")]'):
        [message] = field.xpath('.//p[@class="field-error"]')
        name = field.xpath(".//*[@name]/@name")[0]
        found[name] = " ".join(message.text_content().split()).removeprefix("错误：")
    return found


def complaints(pages: Pages) -> int:
    with pages.scenario.product.uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(Complaint)) or 0


def test_a_public_complaint_gives_its_number_and_code_once_and_tracks_in_chinese(pages: Pages) -> None:
    form = pages.get("/public/complaints/new")
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in form.text
    assert "退出" not in form.text  # no staff frame
    regions = text_of(form.text, '//select[@name="business.region_code"]/optgroup/option')
    assert "阜阳市 太和县" in regions and "阜阳市 临泉县" in regions and "阜阳市 颍州区" in regions
    assert "承办单位与您联系时可以提供" in form.text  # evidence: no uploads yet

    response = post_complaint(pages)
    assert response.status_code == 303
    assert response.headers["location"] == "/public/complaints/submitted"  # no number or code in any URL
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{RESULT_COOKIE}=") and "HttpOnly" in cookie
    assert "Path=/public/complaints/submitted" in cookie

    result = pages.get("/public/complaints/submitted")
    assert result.headers["cache-control"] == "no-store"
    tree = lxml.html.fromstring(result.text)
    [number] = tree.xpath('//dd[@class="tracking-no"]/text()')
    [code] = tree.xpath('//dd[@class="tracking-code"]/text()')
    assert re.fullmatch(r"TS20261118\d{8}", number) and re.fullmatch(r"[2-9A-Z]{8}", code)
    assert "查询码只在本页显示这一次" in result.text
    assert "承办单位将于 2026年11月27日 前作出是否受理的决定，并告知您" in result.text

    tracked = track(pages, number, code)
    assert tracked.status_code == 200, tracked.text
    assert result_of(tracked.text) == {
        "当前状态": "待受理", "承办单位": "太和县市场监督管理局",
        "下一步": "承办单位将于 2026年11月27日 前作出是否受理的决定，并告知您", "登记日期": "2026年11月18日"}
    assert text_of(tracked.text, '//ol[@class="milestones"]/li') == [
        "2026年11月18日 投诉已登记 太和县市场监督管理局", "2026年11月18日 「受理审查」办理中 太和县市场监督管理局"]
    for personal in (PERSON["name"], PERSON["phone"], PERSON["id_number"], PERSON["email"], BUSINESS["address"],
                     BUSINESS["name"], "138****5678", BODY["description"]):
        assert personal not in tracked.text
    assert code not in tracked.text  # the code is never written back into a page

    # two days later the regulator accepts: the milestone says so, and the complaint moves on
    pages.api.travel(START + timedelta(days=2))
    with pages.scenario.product.uow() as uow:
        stored = uow.session.scalar(select(Complaint).where(Complaint.tracking_no == number))
    assert stored is not None
    pages.scenario.do("th-amr", "review", {"decision": "accept"}, stored)
    later = track(pages, number.lower(), code.lower())  # as typed: case does not matter
    assert later.status_code == 200
    assert "2026年11月20日 「受理审查」已完成：受理 太和县市场监督管理局" in text_of(
        later.text, '//ol[@class="milestones"]/li')
    assert result_of(later.text)["下一步"] == "承办单位正在办理「确定调解方式」，有进展时将告知您"


def test_the_result_is_shown_only_for_a_while_and_only_until_tracking(pages: Pages) -> None:
    number, code = submit(pages)
    again = pages.get("/public/complaints/submitted")  # a reload shows it again
    assert code in again.text
    pages.api.travel(START + timedelta(minutes=RESULT_MINUTES, seconds=1))
    expired = pages.get("/public/complaints/submitted")
    assert expired.status_code == 200 and code not in expired.text and number not in expired.text
    assert "提交结果已不再显示" in expired.text

    pages.api.travel(START + timedelta(minutes=RESULT_MINUTES + 5))
    _number, second_code = submit(pages, subject="另一件事：冰箱噪音大")
    tracking_page = pages.get("/public/track")
    assert RESULT_COOKIE in tracking_page.headers.get("set-cookie", "")  # leaving for tracking forgets it
    assert second_code not in pages.get("/public/complaints/submitted").text


def test_field_errors_are_chinese_beside_their_fields_and_the_values_stay(pages: Pages) -> None:
    response = post_complaint(pages, **{"complainant.name": "", "complainant.phone": "12345",
                                        "complainant.id_number": "34122219900101123", "business.region_code": "",
                                        "amount": "三千", "description": "   ", "category": ""})
    assert response.status_code == 422
    assert field_errors(response.text) == {
        "complainant.name": "请填写姓名",
        "complainant.phone": "请填写有效的手机号码或带区号的固定电话",
        "complainant.id_number": "身份证号码应为18位",
        "business.region_code": "请选择经营者所在地区",
        "category": "请选择投诉类别",
        "description": "请填写详细情况与诉求",
        "amount": "涉及金额（元）须为数字",
    }
    [title] = text_of(response.text, '//div[@class="error-summary"]/h2')
    assert title == "请更正以下 7 项"
    links = lxml.html.fromstring(response.text).xpath('//div[@class="error-summary"]//a/@href')
    assert links == ["#complainant-name", "#complainant-phone", "#complainant-id-number", "#business-region-code",
                     "#category", "#description", "#amount"]
    tree = lxml.html.fromstring(response.text)
    for anchor in links:
        assert tree.get_element_by_id(anchor[1:]) is not None
    assert tree.xpath('//input[@name="complainant.phone"]/@value') == ["12345"]  # as typed
    assert tree.xpath('//input[@name="subject"]/@value') == [BODY["subject"]]
    assert tree.xpath('//select[@name="business.region_code"]/option[@selected]') == []
    assert not re.search(r"[A-Za-z]{4,}", "".join(field_errors(response.text).values()))  # no English
    assert complaints(pages) == 0


def test_a_complaint_to_a_regulator_needs_an_id_number_a_report_does_not(pages: Pages) -> None:
    response = post_complaint(pages, **{"complainant.id_number": ""})
    assert response.status_code == 422
    assert field_errors(response.text) == {"complainant.id_number": "向市场监管部门投诉须提供身份证号码"}
    assert submit(pages, kind="report", **{"complainant.id_number": ""})[0].startswith("TS")


def test_a_future_date_and_too_long_a_subject_are_told_in_words(pages: Pages) -> None:
    response = post_complaint(pages, occurred_on="2026-12-01", subject="很" * 201)
    assert response.status_code == 422
    assert field_errors(response.text) == {"subject": "事项简述不能超过 200 个字",
                                           "occurred_on": "发生日期不能晚于今天"}


def test_a_wrong_code_and_a_wrong_number_get_the_same_answer(pages: Pages) -> None:
    number, code = submit(pages)
    other = complaint_body()  # another real complaint's number with this code
    other_number = pages.api.submit(subject=other["subject"] + "二")["tracking_no"]
    answers = [track(pages, number, "AAAAAAAA"), track(pages, other_number, code)]
    for answer in answers:
        assert answer.status_code == 404
        notices = text_of(answer.text, '//div[contains(@class, "notice")]')
        assert notices == ["投诉编号或查询码不正确，请核对后重新输入。"]
        assert result_of(answer.text) == {}
    assert answers[0].text.replace(number, other_number) == answers[1].text.replace(
        csrf_of(answers[1].text), csrf_of(answers[0].text))

    malformed = track(pages, "TS2026111800000001", code)  # check digit wrong: a typo, told before any lookup
    assert malformed.status_code == 422
    assert field_errors(malformed.text) == {"tracking_no": "投诉编号格式不正确，应为 TS 加 16 位数字，请核对"}
    empty = track(pages, "", "")
    assert field_errors(empty.text) == {"tracking_no": "请填写投诉编号", "code": "请填写查询码"}


def test_the_same_complaint_twice_is_answered_with_the_first_number(pages: Pages) -> None:
    hidden = open_form(pages)
    first = post_complaint(pages, hidden)
    double_click = post_complaint(pages, hidden)  # the same form sent twice: the same answer, code included
    assert first.status_code == double_click.status_code == 303
    tree = lxml.html.fromstring(pages.get("/public/complaints/submitted").text)
    [number] = tree.xpath('//dd[@class="tracking-no"]/text()')
    [code] = tree.xpath('//dd[@class="tracking-code"]/text()')
    assert complaints(pages) == 1
    assert track(pages, number, code).status_code == 200

    retyped = post_complaint(pages)  # a new form with the same content within a day
    assert retyped.status_code == 409
    [notice] = text_of(retyped.text, '//div[contains(@class, "notice")]')
    assert "该投诉已经收到" in notice and number in notice and code not in retyped.text
    assert complaints(pages) == 1


def test_forms_from_elsewhere_are_refused_and_nothing_happens(pages: Pages) -> None:
    forged = pages.client.post("/public/complaints/new", data=form_values())  # no token, no cookie
    assert forged.status_code == 403
    assert "请求已失效" in forged.text and complaints(pages) == 0
    assert lxml.html.fromstring(forged.text).xpath('//input[@name="subject"]/@value') == [BODY["subject"]]
    wrong = post_complaint(pages, {**open_form(pages), "csrf_token": "not-the-token"})
    assert wrong.status_code == 403 and complaints(pages) == 0
    retried = pages.client.post("/public/complaints/new", data={  # the refusal's own form works
        **form_values(), "csrf_token": csrf_of(forged.text), "submission_key": "k-1"})
    assert retried.status_code == 303 and complaints(pages) == 1

    pages.client.cookies.clear()
    number, code = submit(pages, subject="另一件事")
    refused = track(pages, number, code, csrf="forged")
    assert refused.status_code == 403 and result_of(refused.text) == {}


def test_the_address_limits_are_the_apis(pages: Pages) -> None:
    product = pages.scenario.product
    for _ in range(rate_limits.PUBLIC_INTAKE.events):  # the API's submissions from this address count too
        assert limits.admit_request(product, rate_limits.PUBLIC_INTAKE, TESTCLIENT)
    refused = post_complaint(pages)
    assert refused.status_code == 429
    assert "同一网络在一小时内提交的投诉已达上限" in refused.text and complaints(pages) == 0
    assert lxml.html.fromstring(refused.text).xpath('//input[@name="subject"]/@value') == [BODY["subject"]]

    tracking_no = pages.api.submit()["tracking_no"]
    for _ in range(rate_limits.PUBLIC_LOOKUP.events):
        assert limits.admit_request(product, rate_limits.PUBLIC_LOOKUP, TESTCLIENT)
    too_many = track(pages, tracking_no, "AAAAAAAA")
    assert too_many.status_code == 429 and "查询过于频繁，请稍后再试。" in too_many.text

    pages.api.travel(START + rate_limits.PUBLIC_INTAKE.window + timedelta(seconds=1))
    assert post_complaint(pages).status_code == 303  # the window passed


def test_the_api_answers_the_same_words(pages: Pages) -> None:
    number, code = submit(pages)
    answer: dict[str, Any] = pages.api.client.get(f"/api/v1/public/complaints/{number}", params={"code": code}).json()
    assert answer["status"] == "pending_acceptance" and answer["stage"] == "pending_acceptance"
    assert answer["status_label"] == "待受理" and answer["kind_label"] == "投诉"
    assert answer["handling_agency"] == "太和县市场监督管理局"
    assert answer["next_step"] == "承办单位将于 2026年11月27日 前作出是否受理的决定，并告知您"
    assert answer["next_due_at"] == "2026-11-27T23:59:59+08:00"
    assert [m["label"] for m in answer["history"]] == ["投诉已登记", "「受理审查」办理中"]


def test_the_pages_run_under_the_content_security_policy_and_escape_what_was_typed(pages: Pages) -> None:
    assets = assert_self_contained(pages.get("/public/complaints/new"))
    typed = post_complaint(pages, subject='<script>alert(1)</script>"空调', **{"complainant.phone": "1"})
    assert typed.status_code == 422
    assets += assert_self_contained(typed)
    assert "<script>alert(1)" not in typed.text and "&lt;script&gt;alert(1)&lt;/script&gt;&#34;空调" in typed.text
    number, code = submit(pages)
    assets += assert_self_contained(pages.get("/public/complaints/submitted"))
    assets += assert_self_contained(track(pages, number, code))
    assert sorted(set(assets)) == ["/static/app/app.css", "/static/app/favicon.svg", "/static/app/public.css",
                                   "/static/vendor/htmx/htmx.min.js"]
    served = pages.get("/static/app/public.css")
    assert served.status_code == 200 and served.headers["content-type"].startswith("text/css")
