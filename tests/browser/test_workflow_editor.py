"""The BPMN editor in Chromium: the reference workflow opens in the modeler and exports unchanged in
meaning; an admin renames the review task, adds a form field and changes its deadline rule through the
panel, checks and saves version 2, sees the diff mark the task, deploys it — the liaison's review page
then has the new field — and rolls back to version 1. A broken diagram gets its errors pinned on the
elements. Nothing is asked of another origin and the Content-Security-Policy refuses nothing."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from engine.bpmn.validation import validate_bpmn
from engine.db.tables import SpecVersion
from engine.serialization import spec_to_json
from tests.api.conftest import PASSWORD
from tests.browser.conftest import Visit
from tests.browser.test_sign_in_and_inbox import on_path, sign_in
from tests.workflows.scenario import Scenario

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = (ROOT / "workflows" / "complaint_handling.bpmn").read_bytes()
EDITOR = "/admin/workflows/complaint_handling/versions/1"
FILENAME = "complaint_handling.bpmn"


def sign_in_as_admin(visit: Visit, path: str = EDITOR) -> None:
    page = visit.page
    page.goto(f"/login?next={path}")
    form = page.locator("form#login")
    form.locator("input[name=username]").fill("admin")
    form.locator("input[name=password]").fill(PASSWORD)
    form.locator("button[type=submit]").click()
    page.wait_for_url(on_path(path))
    if "/versions/" in path:
        expect(page.locator("#editor-canvas")).to_have_attribute("data-editor-state", "ready")


def shape(page: Page, element_id: str) -> Any:
    return page.locator(f'#editor-canvas g.djs-element[data-element-id="{element_id}"]')


def exported(page: Page) -> str:
    xml: str = page.evaluate("window.complaintflowEditor.modeler.saveXML({format: true}).then(r => r.xml)")
    return xml


def version(s: Scenario, number: int) -> SpecVersion:
    with s.product.reader() as uow:
        row = uow.session.scalar(select(SpecVersion).where(SpecVersion.key == "complaint_handling",
                                                           SpecVersion.version == number))
        assert row is not None
        uow.session.expunge(row)
        return row


def test_the_reference_workflow_round_trips_through_the_modeler(s: Scenario, visit: Visit) -> None:
    sign_in_as_admin(visit)
    page = visit.page
    xml = exported(page)
    rules = s.product.deadlines.rule_names()
    original = validate_bpmn(REFERENCE, FILENAME, rules)
    again = validate_bpmn(xml, FILENAME, rules)  # the server's validator accepts the export
    assert again.tasks == original.tasks  # every form, deadline, lane and property
    assert again.process_properties == original.process_properties
    assert again.process_names == original.process_names
    assert spec_to_json(again) == spec_to_json(original)  # scripts, timers, messages, payloads, conditions
    assert xml.count("<spiffworkflow:property ") == REFERENCE.decode().count("<spiffworkflow:property ")
    assert xml.count("<spiffworkflow:messagePayload>") == REFERENCE.decode().count("<spiffworkflow:messagePayload>")

    # the form editor reads every form and writes it back as it was
    forms = [task.form for task in original.tasks.values() if task.form is not None]
    written = page.evaluate("forms => forms.map(f => window.complaintflowForms.write(window.complaintflowForms"
                            ".parse(f)))", forms)
    assert written == forms
    assert [json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in written] == [
        json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in forms]

    # saved without a change, the file is the version it was opened from
    page.locator("#editor-comment").fill("未作修改")
    page.locator("#editor-save").click()
    expect(page.locator("#editor-notice")).to_have_text("内容与第 1 版相同，未保存新版本")
    assert page.url.endswith(EDITOR + "?same=1")
    with s.product.reader() as uow:
        assert uow.session.scalar(select(func.max(SpecVersion.version)).where(
            SpecVersion.key == "complaint_handling")) == 1
    visit.assert_clean()


def test_an_admin_edits_the_review_task_and_the_liaison_sees_the_new_field(s: Scenario, visit: Visit) -> None:
    sign_in_as_admin(visit)
    page = visit.page
    expect(page.locator("h1")).to_have_text("complaint_handling · 第 1 版")
    expect(page.locator("#editor-state")).to_have_text("已发布")

    shape(page, "review").click()
    panel = page.locator("#editor-panel-body")
    expect(panel.locator(".editor-props")).to_have_attribute("data-element-id", "review")
    expect(panel.locator("#editor-name")).to_have_value("受理审查")
    expect(panel.locator("#editor-deadline")).to_have_value("acceptance")
    expect(panel.locator("#editor-deadline-from")).to_have_value("review_clock_from")
    fields = panel.locator(".editor-form-field > summary .editor-field-title")
    reference_fields = ["审查结论", "理由", "转送至（机构代码）", "投诉分类", "不予受理情形", "是否发现违法行为线索",
                        "违法行为线索描述"]
    expect(fields).to_have_text(reference_fields)

    panel.locator("#editor-name").fill("受理审查及电话核实")
    panel.locator("#editor-name").press("Tab")
    expect(shape(page, "review")).to_contain_text("受理审查及电话核实")

    panel.locator("#editor-add-field").click()
    added = panel.locator(".editor-form-field").last
    expect(added).to_have_attribute("open", "")
    added.get_by_label("字段标识").fill("phone_check")
    added.get_by_label("字段标识").press("Tab")
    added.get_by_label("中文标题").fill("联系电话核实情况")
    added.get_by_label("中文标题").press("Tab")
    expect(added.get_by_label("类型")).to_have_value("text")
    expect(added.get_by_label("必填")).not_to_be_checked()
    expect(fields).to_have_text([*reference_fields, "联系电话核实情况"])

    panel.locator("#editor-deadline").select_option("jurisdiction_dispute")

    page.locator("#editor-validate").click()
    expect(page.locator("#editor-check")).to_have_text("校验通过，未发现错误")
    expect(page.locator("#editor-problems")).to_be_hidden()
    expect(page.locator(".cf-error-badge")).to_have_count(0)
    visit.screenshot("workflow-editor")

    page.locator("#editor-comment").fill("受理审查增加联系电话核实情况")
    page.locator("#editor-save").click()
    page.wait_for_url(on_path("/admin/workflows/complaint_handling/versions/2"))
    expect(page.locator("#editor-notice")).to_have_text("已保存为第 2 版")
    expect(page.locator("#editor-state")).to_have_text("草稿（未发布）")
    expect(page.locator("#editor-canvas")).to_have_attribute("data-editor-state", "ready")
    expect(shape(page, "review")).to_contain_text("受理审查及电话核实")

    # on the server: version 2 holds the edits, version 1 is untouched
    saved = version(s, 2)
    assert saved.meta["comment"] == "受理审查增加联系电话核实情况" and saved.meta["based_on"] == 1
    bundle = validate_bpmn(saved.bpmn_xml, FILENAME, s.product.deadlines.rule_names())
    review = bundle.tasks[("market_regulator", "review")]
    assert review.title == "受理审查及电话核实"
    assert review.deadline_rule == "jurisdiction_dispute"
    assert review.deadline_from == "review_clock_from"
    assert review.form is not None
    assert review.form["properties"]["phone_check"] == {"type": "string", "title": "联系电话核实情况",
                                                        "minLength": 1, "maxLength": 200}
    assert review.form["required"] == ["decision"] and review.form["additionalProperties"] is False
    assert review.form["properties"]["transfer_to"]["x-not-own-agency"] is True
    before = validate_bpmn(REFERENCE, FILENAME, s.product.deadlines.rule_names())
    assert {k: v for k, v in review.form.items() if k != "properties"} == {
        k: v for k, v in before.tasks[("market_regulator", "review")].form.items()  # type: ignore[union-attr]
        if k != "properties"}
    assert version(s, 1).bpmn_xml == REFERENCE.decode()

    # the diff against version 1 marks the edited task
    page.goto("/admin/workflows/complaint_handling/diff?from=1&to=2")
    expect(page.locator("#diagram-to")).to_have_attribute("data-diagram-state", "ready")
    expect(page.locator('#diagram-to g.djs-element[data-element-id="review"]')).to_have_class(re.compile("cf-changed"))
    expect(page.locator('table.diff-table tr[data-element-id="review"] .details')).to_contain_text("联系电话核实情况")

    # deployed from the list of versions: the next complaint's review task shows the field to the liaison
    page.goto("/admin/workflows")
    page.locator("#version-complaint_handling-2").get_by_role("button", name="发布").click()
    expect(page.locator("p.notice")).to_contain_text("已发布第 2 版")
    complaint = s.submit()
    task = s.task("th-amr", "review", complaint)
    page.locator("#logout button").click()
    page.wait_for_url(on_path("/login"))
    sign_in(visit)
    page.goto(f"/tasks/{task.id}")
    field = page.get_by_label("联系电话核实情况（选填）")
    expect(field).to_be_visible()
    expect(field).to_have_attribute("name", "phone_check")
    expect(page.locator("h1")).to_contain_text("受理审查及电话核实")

    # rolled back to version 1: the complaint after that is handled without the field again
    page.locator("#logout button").click()
    page.wait_for_url(on_path("/login"))
    sign_in_as_admin(visit, "/admin/workflows")
    page.locator("#version-complaint_handling-1").get_by_role("button", name="回滚到此版本").click()
    expect(page.locator("p.notice")).to_contain_text("已发布第 1 版")
    later = s.task("th-amr", "review", s.submit())
    page.locator("#logout button").click()
    page.wait_for_url(on_path("/login"))
    sign_in(visit)
    page.goto(f"/tasks/{later.id}")
    expect(page.locator("h1")).to_contain_text("受理审查")
    expect(page.get_by_label("联系电话核实情况（选填）")).to_have_count(0)
    page.goto(f"/tasks/{task.id}")  # the complaint started on version 2 keeps it
    expect(page.get_by_label("联系电话核实情况（选填）")).to_be_visible()
    visit.assert_clean()


def test_errors_are_pinned_on_the_elements(s: Scenario, visit: Visit) -> None:
    sign_in_as_admin(visit)
    page = visit.page
    panel = page.locator("#editor-panel-body")

    # the regulator's pool loses its agency, the review task gets a start expression that is not Python
    page.locator(".editor-zoom button", has_text="100%").click()  # the whole diagram is too small to aim at
    page.evaluate("""() => { const editor = window.complaintflowEditor;
        editor.service("canvas").scrollToElement(editor.shapeFor("market_regulator")); }""")
    band = shape(page, "Participant_market_regulator").locator(".djs-visual > rect").first.bounding_box()
    view = page.locator("#editor-canvas").bounding_box()
    assert band is not None and view is not None
    top, bottom = max(band["y"], view["y"]), min(band["y"] + band["height"], view["y"] + view["height"])
    page.mouse.click(band["x"] + 15, (top + bottom) / 2)  # the pool's title band
    expect(panel.locator(".editor-props")).to_have_attribute("data-element-id", "Participant_market_regulator")
    expect(panel.locator("#editor-agency")).to_have_value("competent_agency")
    panel.locator("#editor-agency").fill("")
    panel.locator("#editor-agency").press("Tab")
    page.locator(".editor-zoom button", has_text="全图").click()
    shape(page, "review").click()
    panel.locator("#editor-deadline-from").fill("review_clock_from +")
    panel.locator("#editor-deadline-from").press("Tab")

    page.locator("#editor-validate").click()
    problems = page.locator("#editor-problem-list li")
    expect(page.locator("#editor-problems")).to_be_visible()
    expect(problems.first).to_be_visible()
    ids = problems.evaluate_all("items => items.map(i => i.dataset.elementId)")
    assert "review" in ids and "market_regulator" in ids
    expect(page.locator("#editor-problems-title")).to_have_text(f"流程图有 {len(ids)} 处错误，请更正")
    expect(page.locator("#editor-problem-list li[data-element-id='market_regulator']")).to_contain_text(
        "流程缺少 agency 扩展属性")
    for element_id in ("review", "Participant_market_regulator"):  # a process's error is pinned on its pool
        badge = page.locator(f'.cf-error-badge[data-element-id="{element_id}"]')
        expect(badge).to_be_visible()
        assert "cf-invalid" in str(shape(page, element_id).get_attribute("class"))
        where, on = badge.bounding_box(), shape(page, element_id).bounding_box()
        assert where is not None and on is not None
        assert on["x"] <= where["x"] + where["width"] / 2 <= on["x"] + on["width"] + 20  # pinned on the element
        assert on["y"] - 30 <= where["y"] <= on["y"] + on["height"]
    assert page.locator("#editor-problem-list li").all_inner_texts()
    assert all("/" not in text for text in page.locator("#editor-problem-list li").all_inner_texts())

    # an entry selects its element
    page.locator("#editor-canvas").click(position={"x": 5, "y": 5})
    page.locator("#editor-problem-list a[data-element-id='review']").first.click()
    expect(panel.locator(".editor-props")).to_have_attribute("data-element-id", "review")
    expect(panel.locator("#editor-deadline-from")).to_have_value("review_clock_from +")
    visit.screenshot("workflow-editor-errors")

    # saving refuses the same errors and keeps the drawing; nothing is stored
    page.locator("#editor-comment").fill("试图保存有错误的流程图")
    page.locator("#editor-save").click()
    page.wait_for_url(on_path(EDITOR + "/save"))
    expect(page.locator("#editor-canvas")).to_have_attribute("data-editor-state", "ready")
    expect(page.locator('.cf-error-badge[data-element-id="review"]')).to_be_visible()
    shape(page, "review").click()
    expect(panel.locator("#editor-deadline-from")).to_have_value("review_clock_from +")
    with s.product.reader() as uow:
        assert uow.session.scalar(select(SpecVersion.version).where(SpecVersion.key == "complaint_handling")
                                  .order_by(SpecVersion.version.desc()).limit(1)) == 1
    visit.assert_clean(422)
