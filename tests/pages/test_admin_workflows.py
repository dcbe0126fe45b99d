"""The workflow administration pages on SQLite and PostgreSQL, as an administrator's browser without
JavaScript uses them: the versions with their comments, uploader and running instances; deploying a new
version and rolling back (what new complaints then run); the difference between two versions in words;
moving running instances after a dry run; one instance with the complainant's data masked. Anyone else
signed in gets the 403 page, a visitor is sent to sign in, and a form without its CSRF token is refused."""

from __future__ import annotations

from typing import Any

import lxml.html
from sqlalchemy import select

from complaintflow.services import workflows
from engine.db.tables import ProcessInstance, SpecVersion
from tests.pages.conftest import Pages, csrf_of
from tests.pages.test_markup import assert_self_contained
from tests.workflows.scenario import CONSENTED, WORKFLOWS, Scenario

KEY = "complaint_handling"
RENAMED = "受理与审查"
NOTE_FIELD = ("&quot;note&quot;:{&quot;type&quot;:&quot;string&quot;,&quot;title&quot;:&quot;备注&quot;,"
              "&quot;maxLength&quot;:200},")
FORM_START = "&quot;title&quot;:&quot;受理审查&quot;,&quot;type&quot;:&quot;object&quot;,&quot;properties&quot;:{"
COMMENT = "受理审查改名，增加备注字段"


def second_version() -> bytes:
    """The reference workflow with 受理审查 renamed and a 备注 field added to its form."""
    text = (WORKFLOWS / f"{KEY}.bpmn").read_text(encoding="utf-8")
    assert text.count('name="受理审查"') == 1 and text.count(FORM_START) == 1
    text = text.replace('name="受理审查"', f'name="{RENAMED}"').replace(FORM_START, FORM_START + NOTE_FIELD)
    return text.encode("utf-8")


def upload_second(scenario: Scenario) -> None:
    result = workflows.upload_workflow(scenario.product, second_version(), "complaint_handling_v2.bpmn",
                                       scenario.actor("admin"), comment=COMMENT, based_on=1)
    assert result.created and result.version.version == 2


def version_of(scenario: Scenario, instance_id: int) -> int:
    with scenario.product.uow() as uow:
        number = uow.session.scalar(
            select(SpecVersion.version).join(ProcessInstance, ProcessInstance.spec_version_id == SpecVersion.id)
            .where(ProcessInstance.id == instance_id))
        assert number is not None
        return number


def text_of(node: Any) -> str:
    return " ".join(node.text_content().split())


def version_rows(html: str, key: str = KEY) -> dict[str, dict[str, str]]:
    """The versions table of one workflow: version → cell class → text (and the action button's label)."""
    tree = lxml.html.fromstring(html)
    rows = {}
    for row in tree.xpath(f'//section[@id="workflow-{key}"]//table[contains(@class, "admin-versions")]/tbody/tr'):
        cells = {cell.get("class"): text_of(cell) for cell in row.xpath("td")}
        buttons = row.xpath('.//form[@class="deploy"]/button')
        cells["button"] = text_of(buttons[0]) if buttons else ""
        cells["links"] = " ".join(f"{text_of(a)}={a.get('href')}" for a in row.xpath('.//td[@class="actions"]/a'))
        rows[cells["version"].split()[1]] = cells  # "第 2 版 …" → "2"
    return rows


def page_text(html: str, xpath: str = "//main") -> str:
    return " ".join(text_of(node) for node in lxml.html.fromstring(html).xpath(xpath))


def deploy_by_button(pages: Pages, version: int) -> str:
    """Press the 发布 / 回滚 button of a version on the list; the page it comes back to."""
    listing = pages.get("/admin/workflows")
    response = pages.client.post(f"/admin/workflows/{KEY}/versions/{version}/deploy",
                                 data={"csrf_token": csrf_of(listing.text)})
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"/admin/workflows?published={version}&key={KEY}"
    back = pages.get(response.headers["location"])
    assert back.status_code == 200
    return back.text


def test_the_list_shows_each_version_with_its_uploader_comment_deployment_and_instances(pages: Pages) -> None:
    scenario = pages.scenario
    running = scenario.submit()
    upload_second(scenario)
    pages.sign_in("admin")
    html = pages.get("/admin/workflows").text
    rows = version_rows(html)
    assert list(rows) == ["2", "1"]  # newest first
    assert rows["1"]["version"] == "第 1 版 已发布" and rows["2"]["version"] == "第 2 版"
    assert rows["2"]["comment"] == f"{COMMENT} 基于第 1 版" and rows["1"]["comment"] == "—"
    assert rows["2"]["uploaded-at"] == "2026年11月18日 09:30"
    assert rows["2"]["uploaded-by"] and rows["2"]["uploaded-by"] == rows["1"]["uploaded-by"]
    assert rows["1"]["running"] == "1" and rows["2"]["running"] == "0"
    assert rows["2"]["button"] == "发布" and rows["1"]["button"] == ""
    assert rows["2"]["links"] == (f"编辑=/admin/workflows/{KEY}/versions/2 "
                                  f"比较=/admin/workflows/{KEY}/diff?from=1&to=2")
    assert rows["1"]["links"] == f"编辑=/admin/workflows/{KEY}/versions/1"
    assert page_text(html, f'//section[@id="workflow-{KEY}"]/h2') == f"投诉处理 {KEY}"
    assert "当前发布：第 1 版 · 运行中的实例 1 个" in page_text(html, f'//section[@id="workflow-{KEY}"]/p')
    assert "正在办理的流程实例仍按其启动时的版本运行，直至迁移到新版本" in page_text(html)
    assert version_rows(html, "case_conversion")["1"]["version"] == "第 1 版 已发布"
    assert running.process_instance_id is not None


def test_deploying_and_rolling_back_change_what_new_complaints_run(pages: Pages) -> None:
    scenario = pages.scenario
    before = scenario.submit()
    upload_second(scenario)
    pages.sign_in("admin")

    html = deploy_by_button(pages, 2)
    notice = page_text(html, '//p[@class="notice"]')
    assert "已发布第 2 版" in notice and "正在办理的流程实例仍按其启动时的版本运行" in notice
    rows = version_rows(html)
    assert rows["2"]["version"] == "第 2 版 已发布" and rows["1"]["button"] == "回滚到此版本"
    assert rows["1"]["running"] == "1 迁移到第 2 版"  # the running instance may now be moved
    after = scenario.submit()
    assert after.process_instance_id is not None and before.process_instance_id is not None
    assert version_of(scenario, after.process_instance_id) == 2
    assert version_of(scenario, before.process_instance_id) == 1  # keeps its version
    assert [t.title for t in scenario.inbox("th-amr", after)] == [RENAMED]

    html = deploy_by_button(pages, 1)
    assert "已发布第 1 版" in page_text(html, '//p[@class="notice"]')
    rows = version_rows(html)
    assert rows["1"]["version"] == "第 1 版 已发布" and rows["2"]["button"] == "发布"
    rolled_back = scenario.submit()
    assert rolled_back.process_instance_id is not None
    assert version_of(scenario, rolled_back.process_instance_id) == 1
    assert [t.title for t in scenario.inbox("th-amr", rolled_back)] == ["受理审查"]
    assert version_of(scenario, after.process_instance_id) == 2


def test_the_diff_names_the_renamed_task_and_the_added_form_field(pages: Pages) -> None:
    upload_second(pages.scenario)
    pages.sign_in("admin")
    response = pages.get(f"/admin/workflows/{KEY}/diff", params={"from": "1", "to": "2"})
    assert response.status_code == 200, response.text
    tree = lxml.html.fromstring(response.text)
    rows = {row.get("data-element-id"): {cell.get("class"): text_of(cell) for cell in row.xpath("td")}
            for row in tree.xpath('//table[contains(@class, "diff-table")]/tbody/tr')}
    assert list(rows) == ["review"]
    assert rows["review"]["element"] == f"{RENAMED} review"
    assert rows["review"]["type"] == "人工任务" and rows["review"]["change"] == "修改"
    assert rows["review"]["details"] == f"名称 受理审查 → {RENAMED} 表单字段 新增 备注（note）"
    assert "新增 0 处 · 删除 0 处 · 修改 1 处" in page_text(response.text)
    assert [o.get("value") for o in tree.xpath('//select[@id="from"]/option[@selected]')] == ["1"]
    assert [o.get("value") for o in tree.xpath('//select[@id="to"]/option[@selected]')] == ["2"]
    [box] = tree.xpath('//div[@id="diagram-to"]')
    assert box.get("data-diff-url") == f"/admin/workflows/{KEY}/diff.json?from=1&to=2"
    assert tree.xpath('//div[@id="diagram-from"]') == []  # nothing removed to show on v1

    answer = pages.get(box.get("data-diff-url")).json()
    assert answer["to"]["changed"] == ["review"] and answer["to"]["added"] == []
    assert answer["from"]["removed"] == [] and f'name="{RENAMED}"' in answer["to"]["bpmn_xml"]

    backwards = pages.get(f"/admin/workflows/{KEY}/diff", params={"from": "2", "to": "1"}).text
    assert f"名称 {RENAMED} → 受理审查 表单字段 删除 备注（note）" in page_text(backwards)
    assert pages.get(f"/admin/workflows/{KEY}/diff", params={"from": "1", "to": "9"}).status_code == 404
    assert pages.get("/admin/workflows/no_such/diff").status_code == 404
    assert "所选的两个版本相同" in pages.get(f"/admin/workflows/{KEY}/diff?from=2&to=2").text


def test_migration_dry_run_then_moves_the_safe_instances(pages: Pages) -> None:
    scenario = pages.scenario
    at_review = scenario.submit()  # its open 受理审查 changes in v2: it cannot move
    past_review = scenario.submit(subject="冰箱噪音大")
    scenario.do("th-amr", "review", {"decision": "accept"}, past_review)
    upload_second(scenario)
    pages.sign_in("admin")
    assert at_review.process_instance_id and past_review.process_instance_id
    stuck, movable = at_review.process_instance_id, past_review.process_instance_id

    html = pages.get(f"/admin/workflows/{KEY}/migrate", params={"from": "1", "to": "2"}).text
    tree = lxml.html.fromstring(html)
    plan = {row.get("id"): {cell.get("class"): text_of(cell) for cell in row.xpath("td")}
            for row in tree.xpath('//table[contains(@class, "migration-plan")]/tbody/tr')}
    assert plan[f"instance-{stuck}"]["tracking-no"] == at_review.tracking_no
    assert plan[f"instance-{stuck}"]["tasks"] == "受理审查"
    assert plan[f"instance-{stuck}"]["verdict"] == "不可迁移 步骤「受理审查」（review）已修改且正在办理"
    assert plan[f"instance-{movable}"]["verdict"] == "可迁移"
    assert plan[f"instance-{movable}"]["tasks"] == "确定调解方式"
    assert tree.xpath(f'//tr[@id="instance-{stuck}"]//a/@href') == [f"/admin/instances/{stuck}"]
    assert "可迁移 1 个 / 共 2 个" in page_text(html)
    assert version_of(scenario, movable) == 1  # a dry run changes nothing

    response = pages.client.post(f"/admin/workflows/{KEY}/migrate",
                                 data={"csrf_token": csrf_of(html), "from": "1", "to": "2"})
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"/admin/workflows/{KEY}/migrate?from=1&to=2&moved={movable}&failed="
    html = pages.get(response.headers["location"]).text
    assert "已迁移 1 / 共 1" in page_text(html)
    assert page_text(html, f'//tr[@id="result-{movable}"]') == f"{movable} 迁移成功"
    assert version_of(scenario, movable) == 2 and version_of(scenario, stuck) == 1
    assert "可迁移 0 个 / 共 1 个" in page_text(html)  # only the stuck one is still on v1
    # the moved instance goes on under v2
    scenario.do("th-amr", "arrange_mediation", {**CONSENTED, "mediator": "self"}, past_review)
    assert scenario.open_task_names(past_review) == ["mediate"]


def test_the_instance_view_shows_where_it_stands_with_personal_data_masked(pages: Pages) -> None:
    scenario = pages.scenario
    complaint = scenario.submit()
    scenario.do("th-amr", "review", {"decision": "accept", "reason": "已电话联系张三（13812345678）"}, complaint)
    scenario.do("th-amr", "arrange_mediation", {**CONSENTED, "mediator": "self"}, complaint)
    instance_id = complaint.process_instance_id
    pages.sign_in("admin")
    response = pages.get(f"/admin/instances/{instance_id}")
    assert response.status_code == 200, response.text
    html = response.text
    text = page_text(html)
    assert f"投诉编号：{complaint.tracking_no}" in text and "投诉人：张*" in text
    assert f"流程：{KEY} 第 1 版" in text and "运行中" in text
    assert "调解期限：2027年1月18日 23:59" in text
    assert page_text(html, '//table[contains(@class, "instance-tasks")]/tbody/tr') == (
        "组织调解 太和县市场监督管理局 未认领 2027年1月18日 23:59")  # due when the mediation timer fires
    tree = lxml.html.fromstring(html)
    data = {text_of(row.xpath("th")[0]): text_of(row.xpath("td")[0])
            for row in tree.xpath('//table[contains(@class, "instance-data")]/tbody/tr')}
    assert data["tracking_no"] == complaint.tracking_no and data["decision"] == "accept"
    assert data["reason"] == "已电话联系张*（138****5678）"
    assert "张三" not in html and "13812345678" not in html and "341222" not in html.replace(
        "341222********", "")  # the complainant is masked everywhere on the page
    [box] = tree.xpath('//div[@id="diagram"]')
    assert box.get("data-diagram-url") == f"/admin/instances/{instance_id}/diagram.json"
    state = pages.get(box.get("data-diagram-url")).json()
    assert state["current"] == ["mediate", "mediate_deadline"]
    assert "review" in state["completed"] and state["spec_version"] == 1
    assert [t["label"] for t in state["timers"]] == ["调解期限"]
    assert pages.get("/admin/instances/999999").status_code == 404
    assert pages.get("/admin/instances/abc").status_code == 404


def test_only_administrators_see_the_pages(pages: Pages) -> None:
    complaint = pages.scenario.submit()
    paths = ["/admin/workflows", f"/admin/workflows/{KEY}/diff?from=1&to=1",
             f"/admin/workflows/{KEY}/migrate?from=1&to=1", f"/admin/instances/{complaint.process_instance_id}"]
    for path in paths:  # signed out: to sign in, and back here afterwards
        response = pages.get(path)
        assert response.status_code == 303 and response.headers["location"].startswith("/login?next=/admin/"), path
    pages.sign_in("th-amr.liaison")
    listing = pages.get("/tasks")
    for path in paths:
        response = pages.get(path)
        assert response.status_code == 403 and "该页面仅供系统管理员使用" in response.text, path
    refused = pages.client.post(f"/admin/workflows/{KEY}/versions/1/deploy", data={"csrf_token": csrf_of(listing.text)})
    assert refused.status_code == 403 and "无权访问" in refused.text
    state = pages.get(f"/admin/instances/{complaint.process_instance_id}/diagram.json")
    assert state.status_code == 403 and "bpmn_xml" not in state.text


def test_a_form_without_its_csrf_token_is_refused(pages: Pages) -> None:
    scenario = pages.scenario
    upload_second(scenario)
    pages.sign_in("admin")
    for data in ({}, {"csrf_token": "forged"}):
        response = pages.client.post(f"/admin/workflows/{KEY}/versions/2/deploy", data=data)
        assert response.status_code == 403 and "请求已失效" in response.text
        response = pages.client.post(f"/admin/workflows/{KEY}/migrate", data={**data, "from": "1", "to": "2"})
        assert response.status_code == 403 and "请求已失效" in response.text
    assert version_rows(pages.get("/admin/workflows").text)["1"]["version"] == "第 1 版 已发布"  # nothing deployed


def test_the_pages_run_under_the_content_security_policy_with_their_assets_from_this_server(pages: Pages) -> None:
    complaint = pages.scenario.submit()
    upload_second(pages.scenario)
    pages.sign_in("admin")
    assets: list[str] = []
    for path in ("/admin/workflows", f"/admin/workflows/{KEY}/diff?from=1&to=2",
                 f"/admin/workflows/{KEY}/migrate?from=1&to=2", f"/admin/instances/{complaint.process_instance_id}"):
        response = pages.get(path)
        assert response.status_code == 200, path
        assets += assert_self_contained(response)
    assert {"/static/app/admin.css", "/static/app/workflow-diff.js", "/static/app/diagram.js"} <= set(assets)
    for asset in set(assets):
        assert pages.get(asset).status_code == 200, asset
