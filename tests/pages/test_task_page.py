"""The task page: the complaint in brief (masked as the detail masks it), the task's form rendered from its
JSON Schema, errors in Chinese beside each field with the answers kept, claim / release / hand over /
stop and restart the clock, submitting on to the next task, and what another agency, a forged form or a
signed-out visitor gets."""

from __future__ import annotations

from typing import Any

import httpx
from lxml.html import HtmlElement

from engine.clock import SHANGHAI
from tests.pages.conftest import Pages, csrf_of, one, text, tree
from tests.workflows.scenario import ID_NUMBER
from web.form_fields import form_fields, parse_submission

LIAISON = "th-amr.liaison"
SUPERVISOR = "th-amr.supervisor"
LIAISON_NAME = "太和县市场监督管理局联络员"
SUPERVISOR_NAME = "太和县市场监督管理局负责人"


def review_task(pages: Pages) -> tuple[dict[str, Any], str]:
    """A fresh complaint at Taihe and the id of its review task."""
    submitted = pages.api.submit()
    return submitted, pages.api.task(LIAISON, "review", submitted["id"])["id"]


def open_task(pages: Pages, task_id: str, status: int = 200, **params: str) -> HtmlElement:
    response = pages.get(f"/tasks/{task_id}", params=params)
    assert response.status_code == status, response.text
    return tree(response.text)


def post(pages: Pages, path: str, data: dict[str, str], token: str | None = None) -> httpx.Response:
    """Post a form of the page at ``path``'s task with the page's CSRF token (as a browser would)."""
    if token is None:
        task_path = path.rsplit("/", 1)[0]
        token = csrf_of(pages.get(task_path).text)
    response: httpx.Response = pages.client.post(path, data={"csrf_token": token, **data})
    return response


def errors_of(page: HtmlElement) -> tuple[str, list[tuple[str, str]], dict[str, str]]:
    """(the summary's heading, its lines as (link target, text), the messages beside the fields by group id)."""
    summary = one(page, '//div[@id="error-summary"]')
    lines = [(a.get("href"), text(a)) for a in summary.xpath(".//li/a")]
    beside = {group.get("id"): text(one(group, './/p[@class="field-error"]')).removeprefix("错误：")
              for group in page.xpath('//*[contains(concat(" ", @class, " "), " has-error ")]')}
    return text(one(summary, "h2")), lines, beside


# ---------------------------------------------------------------------------------------------- showing


def test_the_review_task_shows_the_complaint_in_brief_and_its_form(pages: Pages) -> None:
    submitted, task_id = review_task(pages)
    pages.sign_in(LIAISON)
    response = pages.get(f"/tasks/{task_id}")
    assert response.status_code == 200 and '<html lang="zh-CN">' in response.text
    assert '<link rel="stylesheet" href="/static/app/task.css">' in response.text
    assert '<script src="/static/app/task-form.js" defer></script>' in response.text
    page = tree(response.text)

    assert text(one(page, "//h1")) == f"受理审查 · {submitted['tracking_no']}"
    assert text(one(page, '//dl[@class="task-meta"]/div[@class="deadline"]/dd')) == "2026年11月27日 正常"
    assert text(one(page, '//dl[@class="task-meta"]/div[@class="assignee"]/dd')) == "未认领"

    box = one(page, '//section[contains(@class, "task-complaint")]')
    facts = {text(one(div, "dt")): text(one(div, "dd")) for div in box.xpath(".//dl/div")}
    assert facts == {"投诉编号": submitted["tracking_no"], "投诉人": "张* 13812345678",  # the competent regulator
                     "经营者": "太和县某某电器商行", "状态": "待受理", "类别": "质量", "金额": "¥3,299.00",
                     "登记日期": "2026年11月18日"}
    assert text(one(box, './/p[@class="subject"]')) == "空调制冷故障"
    assert text(one(box, './/p[@class="description"]')) == "购买的空调一周后不制冷，商家拒绝维修。"
    assert "张三" not in response.text and ID_NUMBER not in response.text  # name masked, no ID number

    form = one(page, '//form[@id="task-form"]')
    assert form.get("method") == "post" and form.get("action") == f"/tasks/{task_id}/complete"
    assert form.xpath('input[@name="csrf_token"]')[0].get("value") == csrf_of(response.text)
    # 审查结论: three options → radio buttons; required; the first radio is the field's link target
    decision = one(form, './/div[@id="field-decision-group"]')
    assert text(one(decision, ".//legend")) == "审查结论*（必填）"
    radios = decision.xpath('.//input[@type="radio"]')
    assert [(r.get("name"), r.get("value"), r.get("id")) for r in radios] == [
        ("decision", "accept", "field-decision"), ("decision", "reject", "field-decision-2"),
        ("decision", "transfer", "field-decision-3")]
    assert [text(label) for label in decision.xpath(".//label")] == ["受理", "不予受理", "转送"]
    assert not any(r.get("checked") is not None for r in radios)
    # 理由: up to 2000 characters → a textarea; required only for some answers, said in words
    reason = one(form, './/div[@id="field-reason-group"]')
    assert "conditional" in reason.get("class") and reason.get("data-conditions") == (
        '[{"field": "decision", "values": ["reject", "transfer"]}]')
    assert text(one(reason, ".//label")) == "理由"
    assert one(reason, ".//textarea").get("name") == "reason" and one(reason, ".//textarea").get("id") == "field-reason"
    assert one(reason, ".//textarea").get("maxlength") == "2000"
    assert text(one(reason, './/p[@class="hint"]')) == "审查结论为“不予受理”或“转送”时必填"
    # 转送至（机构代码）: a short text with the other active agencies as suggestions
    transfer = one(form, './/input[@name="transfer_to"]')
    assert transfer.get("id") == "field-transfer_to" and transfer.get("list") == "field-transfer_to-agencies"
    suggestions = {o.get("value"): text(o) for o in page.xpath('//datalist[@id="field-transfer_to-agencies"]/option')}
    assert suggestions["lq-amr"] == "临泉县市场监督管理局" and "th-amr" not in suggestions
    assert text(one(form, './/label[@for="field-transfer_to"]')) == "转送至（机构代码）"
    assert text(one(form, './/div[@id="field-transfer_to-group"]/p[@class="hint"]')) == "审查结论为“转送”时必填"
    # 投诉分类: ten options → a select; optional
    category = one(form, './/select[@name="category"]')
    assert category.get("id") == "field-category"
    assert [text(o) for o in category.xpath("option")][:4] == ["请选择", "售后服务", "合同", "质量"]
    assert len(category.xpath("option")) == 11
    assert text(one(form, './/label[@for="field-category"]')) == "投诉分类（选填）"
    assert [text(b) for b in form.xpath(".//button")] == ["提交"]

    # the actions a liaison may take on an unclaimed task: claim it, stop its clock; not release or hand over
    assert page.xpath('//form[@id="claim"]//button/text()') == ["领取"]
    assert page.xpath('//form[@id="suspend"]') and not page.xpath('//form[@id="resume"]')
    assert not page.xpath('//form[@id="release"]') and not page.xpath('//form[@id="assign"]')
    # the history, oldest first
    history = [text(li) for li in page.xpath('//section[contains(@class, "task-history")]//ol[@class="timeline"]/li')]
    assert history == [f"2026年11月18日 09:30 {LIAISON_NAME}（太和县市场监督管理局） 启动投诉处理流程"]


def test_booleans_enums_and_numbers_come_back_as_json_types() -> None:
    form = {"type": "object", "properties": {
        "applied": {"type": "boolean", "title": "是否已申请"},
        "level": {"type": "string", "title": "等级", "enum": ["a", "b", "c", "d", "e"]},
        "count": {"type": "integer", "title": "件数"},
        "rate": {"type": "number", "title": "比例"},
        "note": {"type": "string", "title": "备注", "maxLength": 200},
        "long": {"type": "string", "title": "说明", "maxLength": 201}},
        "required": ["applied"]}
    fields = form_fields(form)
    assert [(f.key, f.widget, f.required) for f in fields] == [
        ("applied", "radios", True), ("level", "select", False), ("count", "number", False),
        ("rate", "number", False), ("note", "text", False), ("long", "textarea", False)]
    assert [(o.value, o.label) for o in fields[0].options] == [("true", "是"), ("false", "否")]
    data, typed = parse_submission(fields, {"applied": "false", "level": "c", "count": "12", "rate": "0.5",
                                            "note": "  ", "long": "说明文字", "csrf_token": "x", "other": "y"})
    assert data == {"applied": False, "level": "c", "count": 12, "rate": 0.5, "long": "说明文字"}
    assert typed["note"] == "  " and "csrf_token" not in typed
    data, _ = parse_submission(fields, {"applied": "maybe", "count": "十二"})
    assert data == {"applied": "maybe", "count": "十二"}  # left for the form's check to name


# ----------------------------------------------------------------------------------------------- errors


def test_a_refused_submission_names_each_field_in_chinese_and_keeps_the_answers(pages: Pages) -> None:
    _submitted, task_id = review_task(pages)
    pages.sign_in(LIAISON)
    path = f"/tasks/{task_id}/complete"

    nothing = post(pages, path, {})
    assert nothing.status_code == 422
    assert errors_of(tree(nothing.text)) == ("请更正以下 1 项", [("#field-decision", "请选择审查结论")],
                                              {"field-decision-group": "请选择审查结论"})

    refused = post(pages, path, {"decision": "transfer", "reason": "经营地在临泉县", "transfer_to": ""})
    assert refused.status_code == 422
    page = tree(refused.text)
    assert errors_of(page) == ("请更正以下 1 项", [("#field-transfer_to", "请填写转送至（机构代码）")],
                               {"field-transfer_to-group": "请填写转送至（机构代码）"})
    assert one(page, '//input[@id="field-decision-3"]').get("checked") is not None  # 转送 still chosen
    assert text(one(page, '//textarea[@id="field-reason"]')) == "经营地在临泉县"
    assert one(page, '//input[@name="transfer_to"]').get("aria-invalid") == "true"
    assert one(page, '//input[@name="transfer_to"]').get("aria-describedby") == (
        "field-transfer_to-hint field-transfer_to-error")

    own = post(pages, path, {"decision": "transfer", "reason": "转", "transfer_to": "th-amr"})
    assert own.status_code == 422
    assert errors_of(tree(own.text))[1] == [("#field-transfer_to", "不能填写本单位（th-amr）")]

    unknown = post(pages, path, {"decision": "transfer", "reason": "转", "transfer_to": "no-such-amr"})
    assert unknown.status_code == 422  # refused by the workflow's routing, after the form's check
    assert errors_of(tree(unknown.text))[1] == [("#field-transfer_to", "未知的单位代码")]

    made_up = post(pages, path, {"decision": "同意", "reason": "x" * 2001, "category": "天气"})
    assert made_up.status_code == 422
    heading, lines, _beside = errors_of(tree(made_up.text))
    assert heading == "请更正以下 3 项"
    assert lines == [("#field-decision", "审查结论的取值无效"), ("#field-reason", "理由不能超过 2000 个字"),
                     ("#field-category", "投诉分类的取值无效")]
    assert "is not valid" not in made_up.text and "required property" not in made_up.text

    still = open_task(pages, task_id)  # nothing was submitted
    assert one(still, '//form[@id="task-form"]') is not None
    assert pages.scenario.open_task_names(pages.scenario.complaint(_submitted["id"])) == ["review"]


# ---------------------------------------------------------------------------------------------- actions


def test_claiming_releasing_and_handing_over(pages: Pages) -> None:
    _submitted, task_id = review_task(pages)
    pages.sign_in(LIAISON)

    claimed = post(pages, f"/tasks/{task_id}/claim", {})
    assert claimed.status_code == 303 and claimed.headers["location"] == f"/tasks/{task_id}?done=claimed"
    page = open_task(pages, task_id, done="claimed")
    assert text(one(page, '//p[@class="notice"]')) == "已领取该任务"
    assert text(one(page, '//div[@class="assignee"]/dd')) == f"{LIAISON_NAME}（本人）"
    assert not page.xpath('//form[@id="claim"]') and page.xpath('//form[@id="release"]//button/text()') == ["释放"]
    # the assignee may hand it on: to a colleague who works the lane (the supervisor), not to themselves
    assign = one(page, '//form[@id="assign"]')
    assert [(o.get("value"), text(o)) for o in assign.xpath(".//option")] == [("", "请选择同事"),
                                                                          ("th-amr.supervisor", SUPERVISOR_NAME)]
    assert assign.xpath(".//button/text()") == ["转交同事"]

    nobody = post(pages, f"/tasks/{task_id}/assign", {"username": ""})
    assert nobody.status_code == 422
    assert errors_of(tree(nobody.text)) == ("请更正以下 1 项", [("#assign-username", "请选择要转交的同事")],
                                            {"assign": "请选择要转交的同事"})
    stranger = post(pages, f"/tasks/{task_id}/assign", {"username": "lq-amr.liaison"})
    assert stranger.status_code == 422
    assert text(one(tree(stranger.text), '//form[@id="assign"]//p[@class="field-error"]')) == (
        "错误：该用户不能办理此任务")

    handed = post(pages, f"/tasks/{task_id}/assign", {"username": SUPERVISOR})
    assert handed.status_code == 303 and handed.headers["location"] == f"/tasks/{task_id}?done=assigned"
    # now a colleague's task: read-only for the liaison, no form and no action
    page = open_task(pages, task_id)
    assert text(one(page, '//p[@class="read-only"]')) == f"该任务由 {SUPERVISOR_NAME} 办理。"
    assert not page.xpath("//form[@id='task-form']") and not page.xpath('//div[@class="task-actions"]')
    assert pages.api.task(SUPERVISOR, "review", _submitted["id"])["assignee"] == SUPERVISOR

    # the supervisor hands it back to the liaison, or releases it
    pages.sign_out_locally()
    pages.sign_in(SUPERVISOR)
    page = open_task(pages, task_id)
    assert text(one(page, '//div[@class="assignee"]/dd')) == f"{SUPERVISOR_NAME}（本人）"
    assert post(pages, f"/tasks/{task_id}/assign", {"username": LIAISON}).status_code == 303
    page = open_task(pages, task_id)
    assert text(one(page, '//p[@class="read-only"]')) == (
        f"该任务由 {LIAISON_NAME} 办理。作为负责人，您可以将其转交给其他同事或您本人。")
    assert [o.get("value") for o in page.xpath('//form[@id="assign"]//option')] == ["", SUPERVISOR]
    assert text(one(page, '//select[@id="assign-username"]/option[@value="th-amr.supervisor"]')) == (
        f"{SUPERVISOR_NAME}（本人）")
    assert not page.xpath("//form[@id='task-form']")  # not while a colleague holds it
    released = post(pages, f"/tasks/{task_id}/release", {})
    assert released.status_code == 303 and released.headers["location"] == f"/tasks/{task_id}?done=released"
    page = open_task(pages, task_id, done="released")
    assert text(one(page, '//p[@class="notice"]')) == "已释放该任务，本单位同事可以领取"
    assert text(one(page, '//div[@class="assignee"]/dd')) == "未认领"


def test_stopping_and_restarting_the_clock_needs_a_reason(pages: Pages) -> None:
    _submitted, task_id = review_task(pages)
    pages.sign_in(LIAISON)

    empty = post(pages, f"/tasks/{task_id}/suspend", {"reason": "   "})
    assert empty.status_code == 422
    page = tree(empty.text)
    heading, lines, _beside = errors_of(page)
    assert (heading, lines) == ("请更正以下 1 项", [("#suspend-reason", "请填写理由")])
    assert one(page, '//details[@class="clock"][.//form[@id="suspend"]]').get("open") is not None
    assert text(one(page, '//form[@id="suspend"]//p[@class="field-error"]')) == "错误：请填写理由"

    stopped = post(pages, f"/tasks/{task_id}/suspend", {"reason": "送检测机构鉴定空调压缩机"})
    assert stopped.status_code == 303 and stopped.headers["location"] == f"/tasks/{task_id}?done=suspended"
    page = open_task(pages, task_id, done="suspended")
    assert text(one(page, '//p[@class="notice"]')) == "已暂停计时"
    assert text(one(page, '//div[@class="deadline"]/dd')) == "2026年11月27日 暂停计时"
    assert text(one(page, '//p[@class="read-only"]')) == "计时已暂停，恢复计时后才能提交。"
    assert not page.xpath("//form[@id='task-form']") and not page.xpath("//form[@id='suspend']")
    assert page.xpath("//form[@id='resume']//button/text()") == ["恢复计时"]
    history = " ".join(text(li) for li in page.xpath('//ol[@class="timeline"]/li'))
    assert "送检测机构鉴定空调压缩机" in history

    assert post(pages, f"/tasks/{task_id}/resume", {"reason": ""}).status_code == 422
    resumed = post(pages, f"/tasks/{task_id}/resume", {"reason": "鉴定报告已收到"})
    assert resumed.status_code == 303 and resumed.headers["location"] == f"/tasks/{task_id}?done=resumed"
    page = open_task(pages, task_id)
    assert text(one(page, '//div[@class="deadline"]/dd')) == "2026年11月27日 正常"
    assert page.xpath("//form[@id='task-form']")


def test_a_stale_page_is_told_what_changed(pages: Pages) -> None:
    submitted, task_id = review_task(pages)
    pages.sign_in(LIAISON)
    token = csrf_of(pages.get(f"/tasks/{task_id}").text)
    # meanwhile the supervisor claims it
    assert pages.api.post(f"/api/v1/tasks/{task_id}/claim", SUPERVISOR).status_code == 204
    late = pages.client.post(f"/tasks/{task_id}/claim", data={"csrf_token": token})
    assert late.status_code == 409
    page = tree(late.text)
    assert text(one(page, '//div[@class="problem"]')) == (
        "操作未执行：任务刚刚发生了变化（任务已由 th-amr.supervisor 认领），下面是任务的最新状态。")
    assert text(one(page, '//div[@class="assignee"]/dd')) == SUPERVISOR_NAME
    submit = pages.client.post(f"/tasks/{task_id}/complete", data={"csrf_token": token, "decision": "accept"})
    assert submit.status_code == 403
    assert text(one(tree(submit.text), '//div[@class="problem"]')) == "操作未执行：任务已由 th-amr.supervisor 认领"
    assert pages.scenario.open_task_names(pages.scenario.complaint(submitted["id"])) == ["review"]


# ------------------------------------------------------------------------------------------- submitting


def test_submitting_the_review_goes_on_to_arranging_mediation(pages: Pages) -> None:
    submitted, task_id = review_task(pages)
    pages.sign_in(LIAISON)
    assert post(pages, f"/tasks/{task_id}/claim", {}).status_code == 303

    accepted = post(pages, f"/tasks/{task_id}/complete", {"decision": "accept", "reason": "", "transfer_to": "",
                                                           "category": "quality"})
    assert accepted.status_code == 303
    arrange = pages.api.task(LIAISON, "arrange_mediation", submitted["id"])
    assert accepted.headers["location"] == f"/tasks/{arrange['id']}?done=completed"
    page = open_task(pages, arrange["id"], done="completed")
    assert text(one(page, "//h1")) == f"确定调解方式 · {submitted['tracking_no']}"
    assert text(one(page, '//p[@class="notice"]')) == "已提交，请继续办理下一项任务"
    mediator = one(page, '//div[@id="field-mediator-group"]')
    assert [text(label) for label in mediator.xpath(".//label")] == [
        "本机关调解", "委托消费者协会调解", "委托人民调解委员会调解"]
    assert text(one(page, '//div[@id="field-mediator_agency-group"]/p[@class="hint"]')) == (
        "调解方式为“委托消费者协会调解”或“委托人民调解委员会调解”时必填")
    assert page.xpath('//datalist[@id="field-mediator_agency-agencies"]/option[@value="th-cca"]')
    history = " ".join(text(li) for li in page.xpath('//ol[@class="timeline"]/li'))
    assert "完成「受理审查」" in history

    # the completed review is no longer workable: the old page says so
    gone = pages.get(f"/tasks/{task_id}")
    assert gone.status_code == 410 and "<h1>任务已办结</h1>" in gone.text
    again = post(pages, f"/tasks/{task_id}/complete", {"decision": "accept"}, token=csrf_of(gone.text))
    assert again.status_code == 409 and "<h1>任务已办结</h1>" in again.text


def test_the_mediation_task_shows_the_mediation_time_limit(pages: Pages) -> None:
    """The mediation period is kept by a timer of the process, not by the task's deadline: the page says
    when it runs out all the same."""
    submitted, task_id = review_task(pages)
    pages.sign_in(LIAISON)
    post(pages, f"/tasks/{task_id}/complete", {"decision": "accept"})
    arrange = pages.api.task(LIAISON, "arrange_mediation", submitted["id"])
    post(pages, f"/tasks/{arrange['id']}/complete", {"complainant_consent": "true", "business_consent": "true",
                                                     "consent_how": "电话征求双方意见", "mediator": "self"})
    mediate = pages.api.task(LIAISON, "mediate", submitted["id"])
    [due] = pages.scenario.pending_timers(pages.scenario.complaint(submitted["id"]))
    page = open_task(pages, mediate["id"])
    assert text(one(page, '//div[@class="timer"]')) == (
        f"调解期限{due.astimezone(SHANGHAI).year}年{due.astimezone(SHANGHAI).month}月{due.astimezone(SHANGHAI).day}日")


def test_a_submission_that_opens_no_task_of_yours_returns_to_the_inbox(pages: Pages) -> None:
    submitted, task_id = review_task(pages)
    pages.sign_in(LIAISON)
    rejected = post(pages, f"/tasks/{task_id}/complete", {"decision": "reject", "reason": "不属于本局职责",
                                                           "ground": "not_competent", "violation_found": "false"})
    assert rejected.status_code == 303 and rejected.headers["location"] == "/tasks?done=1"
    inbox = pages.get("/tasks", params={"done": "1"})
    assert inbox.status_code == 200
    assert text(one(tree(inbox.text), '//p[@class="notice"]')) == "已提交"
    assert pages.scenario.open_task_names(pages.scenario.complaint(submitted["id"])) == []


# ------------------------------------------------------------------------------------- who gets what


def test_another_agencys_task_is_not_found(pages: Pages) -> None:
    _submitted, task_id = review_task(pages)
    pages.sign_in("lq-amr.liaison")
    for path in (f"/tasks/{task_id}", "/tasks/no-such-task"):
        response = pages.get(path)
        assert response.status_code == 404 and "<h1>任务不存在</h1>" in response.text, path
    token = csrf_of(pages.get("/tasks").text)
    for action, data in (("claim", {}), ("complete", {"decision": "accept"}), ("suspend", {"reason": "x"})):
        response = pages.client.post(f"/tasks/{task_id}/{action}", data={"csrf_token": token, **data})
        assert response.status_code == 404 and "<h1>任务不存在</h1>" in response.text, action
    assert pages.api.task(LIAISON, "review", _submitted["id"])["assignee"] is None


def test_a_form_without_the_sessions_csrf_token_is_refused(pages: Pages) -> None:
    _submitted, task_id = review_task(pages)
    pages.sign_in(LIAISON)
    for data in ({}, {"csrf_token": "forged"}):
        for action in ("claim", "complete", "suspend"):
            response = pages.client.post(f"/tasks/{task_id}/{action}",
                                         data={**data, "reason": "x", "decision": "accept"})
            assert response.status_code == 403 and "<h1>请求已失效</h1>" in response.text, action
    assert pages.api.task(LIAISON, "review", _submitted["id"])["assignee"] is None
    assert pages.scenario.open_task_names(pages.scenario.complaint(_submitted["id"])) == ["review"]


def test_signed_out_visitors_sign_in_first_and_come_back_to_the_task(pages: Pages) -> None:
    _submitted, task_id = review_task(pages)
    response = pages.get(f"/tasks/{task_id}")
    assert response.status_code == 303 and response.headers["location"] == f"/login?next=/tasks/{task_id}"
    posted = pages.client.post(f"/tasks/{task_id}/claim", data={"csrf_token": "x"})
    assert posted.status_code == 303 and posted.headers["location"] == f"/login?next=/tasks/{task_id}"
    signed = pages.login(LIAISON, next=f"/tasks/{task_id}")
    assert signed.status_code == 303 and signed.headers["location"] == f"/tasks/{task_id}"
