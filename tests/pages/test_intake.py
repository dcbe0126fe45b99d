"""Staff intake (``/complaints/new``): a liaison registers a complaint taken by phone and lands on its
acceptance review; errors in Chinese beside the fields; the time of receipt as given; the administrator
(no agency) is told why not; a form from elsewhere is refused; a double click registers once."""

from __future__ import annotations

from datetime import datetime

import httpx
import lxml.html
from sqlalchemy import func, select

from agencies.tables import Complaint
from engine.clock import SHANGHAI
from tests.pages.conftest import Pages, csrf_of
from tests.pages.test_markup import assert_self_contained
from tests.pages.test_public import field_errors, form_values

PATH = "/complaints/new"


def open_form(pages: Pages) -> dict[str, str]:
    response = pages.get(PATH)
    assert response.status_code == 200, response.text
    [key] = lxml.html.fromstring(response.text).xpath('//input[@name="submission_key"]/@value')
    return {"csrf_token": csrf_of(response.text), "submission_key": key}


def register(pages: Pages, hidden: dict[str, str] | None = None, /, **overrides: str) -> httpx.Response:
    values = {**form_values(), "received_at": "", **overrides}
    response: httpx.Response = pages.client.post(PATH, data={**(hidden or open_form(pages)), **values})
    return response


def registered(pages: Pages) -> list[Complaint]:
    with pages.scenario.product.uow() as uow:
        return list(uow.session.scalars(select(Complaint).order_by(Complaint.id)))


def test_a_liaison_registers_a_phone_complaint_and_lands_on_its_review(pages: Pages) -> None:
    pages.sign_in("th-amr.liaison")
    form = pages.get(PATH)
    assert form.status_code == 200
    tree = lxml.html.fromstring(form.text)
    assert tree.xpath("//h1/text()") == ["登记投诉"]
    assert tree.xpath('//input[@name="kind"]/@value') == ["complaint", "report", "consultation"]
    assert tree.xpath('//input[@name="received_at"]/@type') == ["datetime-local"]
    assert "太和县市场监督管理局" in form.text  # the staff frame

    response = register(pages, received_at="2026-11-17T16:45")
    assert response.status_code == 303, response.text
    [complaint] = registered(pages)
    review = pages.scenario.task("th-amr", "review", complaint)
    assert response.headers["location"] == f"/tasks/{review.id}"
    assert complaint.received_at == datetime(2026, 11, 17, 16, 45, tzinfo=SHANGHAI)
    assert (complaint.complainant_name, complaint.complainant_phone, complaint.business_region_code) == (
        "张三", "13812345678", "341222")
    assert review.due_at is not None and review.due_at.astimezone(SHANGHAI).date().isoformat() == "2026-11-26"


def test_errors_are_chinese_beside_their_fields_and_the_values_stay(pages: Pages) -> None:
    pages.sign_in("th-amr.liaison")
    response = register(pages, received_at="2026-11-19T09:00", kind="", subject="",
                        **{"complainant.email": "zhangsan@", "business.uscc": "91341222MA2N0Y7K3X"})
    assert response.status_code == 422
    assert field_errors(response.text) == {
        "kind": "请选择事项类型",
        "received_at": "接收时间不能晚于当前时间",
        "complainant.email": "电子邮箱格式不正确",
        "business.uscc": "统一社会信用代码校验位错误",
        "subject": "请填写事项简述",
    }
    tree = lxml.html.fromstring(response.text)
    assert tree.xpath('//div[@class="error-summary"]/h2/text()') == ["请更正以下 5 项"]
    assert tree.xpath('//input[@name="received_at"]/@value') == ["2026-11-19T09:00"]
    assert tree.xpath('//input[@name="complainant.email"]/@value') == ["zhangsan@"]
    assert tree.xpath('//textarea[@name="description"]/text()') == [form_values()["description"]]
    assert registered(pages) == []


def test_where_the_user_goes_next(pages: Pages) -> None:
    pages.sign_in("th-cca.liaison")  # a consumer association: no ID number needed, its own review
    response = register(pages, **{"complainant.id_number": ""})
    [complaint] = registered(pages)
    assert response.headers["location"] == f"/tasks/{pages.scenario.task('th-cca', 'association_review', complaint).id}"

    pages.sign_out_locally()
    pages.sign_in("th-amr.supervisor")  # a business in Linquan: the review is Linquan's, not ours
    response = register(pages, subject="临泉县超市售卖过期食品",
                        **{"business.name": "临泉县某某超市", "business.region_code": "341221"})
    assert response.status_code == 303
    linquan = registered(pages)[-1]
    assert pages.scenario.open_task_names(linquan) == ["review"]
    assert response.headers["location"] == f"/complaints/{linquan.id}"


def test_who_may_register(pages: Pages) -> None:
    anonymous = pages.get(PATH)
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/login?next=/complaints/new"
    assert pages.client.post(PATH, data=form_values()).status_code == 303  # to the sign-in page
    pages.sign_in("admin")
    refused = pages.get(PATH)
    assert refused.status_code == 403
    assert "系统管理员账号不属于任何机构，不能登记投诉" in refused.text
    assert registered(pages) == []


def test_a_form_from_elsewhere_is_refused_and_a_double_click_registers_once(pages: Pages) -> None:
    pages.sign_in("th-amr.liaison")
    forged = register(pages, {**open_form(pages), "csrf_token": "forged"})
    assert forged.status_code == 403 and "请求已失效" in forged.text
    assert registered(pages) == []

    hidden = open_form(pages)
    first, second = register(pages, hidden), register(pages, hidden)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert len(registered(pages)) == 1

    edited = register(pages, hidden, subject="空调制冷故障（补充）")  # back, edit, send again: a new complaint
    assert edited.status_code == 303 and len(registered(pages)) == 2
    with pages.scenario.product.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Complaint)) == 2


def test_the_page_runs_under_the_content_security_policy(pages: Pages) -> None:
    pages.sign_in("th-amr.liaison")
    assets = assert_self_contained(pages.get(PATH))
    assets += assert_self_contained(register(pages, subject=""))
    assert sorted(set(assets)) == ["/static/app/app.css", "/static/app/favicon.svg", "/static/app/public.css",
                                   "/static/vendor/htmx/htmx.min.js"]
