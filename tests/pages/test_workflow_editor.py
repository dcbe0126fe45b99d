"""The BPMN editor page without a browser: who may open it, what it carries for the modeler, and its two
POSTs — 校验 (errors in Chinese with the element ids) and 保存为新版本 (a new version with the admin's
comment, never an overwrite) — with their CSRF check, over both databases."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lxml.html
from sqlalchemy import func, select

from engine.db.tables import SpecVersion
from tests.pages.conftest import Pages, csrf_of

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = (ROOT / "workflows" / "complaint_handling.bpmn").read_text(encoding="utf-8")
EDITOR = "/admin/workflows/complaint_handling/versions/1"


def text(node: Any) -> str:
    return " ".join(node.text_content().split())


def versions(pages: Pages) -> list[tuple[int, dict[str, Any]]]:
    with pages.scenario.product.reader() as uow:
        rows = uow.session.execute(select(SpecVersion.version, SpecVersion.meta).where(
            SpecVersion.key == "complaint_handling").order_by(SpecVersion.version)).all()
        return [(number, dict(meta or {})) for number, meta in rows]


def stored(pages: Pages, number: int) -> str:
    with pages.scenario.product.reader() as uow:
        xml = uow.session.scalar(select(SpecVersion.bpmn_xml).where(
            SpecVersion.key == "complaint_handling", SpecVersion.version == number))
        assert xml is not None
        return xml


def open_editor(pages: Pages, path: str = EDITOR) -> tuple[Any, str]:
    response = pages.get(path)
    assert response.status_code == 200, response.text
    return lxml.html.fromstring(response.text), csrf_of(response.text)


def test_only_an_admin_opens_the_editor(pages: Pages) -> None:
    response = pages.get(EDITOR)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/admin/workflows/complaint_handling/versions/1"

    pages.sign_in("th-amr.liaison")
    response = pages.get(EDITOR)
    assert response.status_code == 403
    assert "该页面仅供系统管理员使用" in response.text
    page = lxml.html.fromstring(response.text)
    assert page.xpath("//textarea[@name='xml']") == []


def test_the_page_carries_the_version_for_the_modeler(pages: Pages) -> None:
    pages.sign_in("admin")
    page, _csrf = open_editor(pages)
    assert text(page.xpath("//h1")[0]) == "complaint_handling · 第 1 版"
    assert text(page.get_element_by_id("editor-state")) == "已发布"
    [xml] = page.xpath("//form[@id='editor-form']/textarea[@name='xml']")
    assert xml.text == stored(pages, 1) == REFERENCE  # the same read as GET …/versions/1/bpmn
    form = page.get_element_by_id("editor-form")
    assert form.get("action") == EDITOR + "/save"
    assert form.get("data-validate-url") == EDITOR + "/validate"
    assert '"name": "acceptance"' in form.get("data-rules") or '"name":"acceptance"' in form.get("data-rules")
    assert text(page.get_element_by_id("editor-validate")) == "校验"
    assert text(page.get_element_by_id("editor-save")) == "保存为新版本"
    [deploy] = page.xpath("//form[@class='editor-deploy']")
    assert deploy.get("action") == EDITOR + "/deploy"
    assert deploy.xpath("button")[0].get("disabled") is not None  # v1 is the deployed one
    assert "暂无其他版本" in text(page)
    scripts = [s.get("src") for s in page.xpath("//script")]
    assert "/static/vendor/bpmn-js/bpmn-modeler.production.min.js" in scripts
    assert "/static/app/editor.js" in scripts
    assert page.xpath("//script[not(@src)]") == [] and page.xpath("//*[@style]") == []
    for asset in ("/static/vendor/bpmn-js/bpmn-modeler.production.min.js", "/static/app/editor.js",
                  "/static/app/editor.css", "/static/app/spiffworkflow.json", "/static/vendor/bpmn-font/bpmn.css",
                  "/static/vendor/font/bpmn.woff2"):
        assert pages.get(asset).status_code == 200, asset


def test_unknown_key_or_version_is_404(pages: Pages) -> None:
    pages.sign_in("admin")
    for path in ("/admin/workflows/no_such_flow/versions/1", "/admin/workflows/complaint_handling/versions/9"):
        response = pages.get(path)
        assert response.status_code == 404
        assert "未找到该流程版本" in response.text
    _page, csrf = open_editor(pages)
    response = pages.client.post("/admin/workflows/complaint_handling/versions/9/save",
                                 data={"xml": REFERENCE, "comment": "说明", "csrf_token": csrf})
    assert response.status_code == 404


def test_save_creates_the_next_version_with_the_comment(pages: Pages) -> None:
    pages.sign_in("admin")
    _page, csrf = open_editor(pages)
    edited = REFERENCE.replace('<bpmn:userTask id="review" name="受理审查">',
                               '<bpmn:userTask id="review" name="受理审查（含电话核实）">')
    response = pages.client.post(EDITOR + "/save", data={"xml": edited, "comment": "受理审查增加电话核实",
                                                          "csrf_token": csrf})
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/admin/workflows/complaint_handling/versions/2?saved=1"
    assert [number for number, _meta in versions(pages)] == [1, 2]
    meta = versions(pages)[1][1]
    assert meta["comment"] == "受理审查增加电话核实" and meta["based_on"] == 1
    assert stored(pages, 1) == REFERENCE  # never overwritten
    assert stored(pages, 2) == edited

    page, _csrf = open_editor(pages, response.headers["location"])
    assert text(page.get_element_by_id("editor-notice")) == "已保存为第 2 版"
    assert text(page.xpath("//h1")[0]) == "complaint_handling · 第 2 版"
    assert text(page.get_element_by_id("editor-state")) == "草稿（未发布）"
    assert "基于第 1 版修改" in text(page) and "说明：受理审查增加电话核实" in text(page)
    [deploy] = page.xpath("//form[@class='editor-deploy']")
    assert deploy.get("action") == "/admin/workflows/complaint_handling/versions/2/deploy"
    assert text(deploy) == "发布"
    [compare] = page.xpath("//form[@class='editor-compare']")
    assert compare.get("action") == "/admin/workflows/complaint_handling/diff"
    assert compare.xpath("input[@name='to']/@value") == ["2"]
    assert compare.xpath("select[@name='from']/option[@selected]/@value") == ["1"]


def test_same_content_names_the_version_it_equals(pages: Pages) -> None:
    pages.sign_in("admin")
    _page, csrf = open_editor(pages)
    response = pages.client.post(EDITOR + "/save", data={"xml": REFERENCE, "comment": "未改动", "csrf_token": csrf})
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/workflows/complaint_handling/versions/1?same=1"
    page, _csrf = open_editor(pages, response.headers["location"])
    assert text(page.get_element_by_id("editor-notice")) == "内容与第 1 版相同，未保存新版本"
    # a browser sends the textarea's line breaks as CRLF: still the same file
    response = pages.client.post(EDITOR + "/save", data={"xml": REFERENCE.replace("\n", "\r\n"), "comment": "未改动",
                                                          "csrf_token": csrf})
    assert response.headers["location"] == "/admin/workflows/complaint_handling/versions/1?same=1"
    assert [number for number, _meta in versions(pages)] == [1]


def test_a_comment_is_required(pages: Pages) -> None:
    pages.sign_in("admin")
    _page, csrf = open_editor(pages)
    edited = REFERENCE.replace('name="受理审查">', 'name="受理审查（改）">')
    response = pages.client.post(EDITOR + "/save", data={"xml": edited, "comment": "  ", "csrf_token": csrf})
    assert response.status_code == 422
    page = lxml.html.fromstring(response.text)
    assert text(page.get_element_by_id("editor-comment-error")) == "请填写修改说明"
    assert page.xpath("//textarea[@name='xml']")[0].text == edited  # the admin's drawing is kept
    assert [number for number, _meta in versions(pages)] == [1]


def test_invalid_diagram_lists_errors_in_chinese_with_element_ids(pages: Pages) -> None:
    pages.sign_in("admin")
    _page, csrf = open_editor(pages)
    broken = REFERENCE.replace('<bpmn:lane id="regulator_liaison" name="liaison">',
                               '<bpmn:lane id="regulator_liaison" name="clerk">')
    assert broken != REFERENCE
    response = pages.client.post(EDITOR + "/save", data={"xml": broken, "comment": "改泳道", "csrf_token": csrf})
    assert response.status_code == 422
    page = lxml.html.fromstring(response.text)
    items = page.xpath("//ul[@id='editor-problem-list']/li")
    assert items
    by_element = {item.get("data-element-id"): text(item) for item in items}
    assert "review" in by_element
    assert by_element["review"].startswith("受理审查（review）：人工任务须位于以角色命名的泳道")
    assert all(" / " not in item.get("data-message") for item in items)  # the Chinese half only
    assert text(page.get_element_by_id("editor-problems-title")) == f"流程图有 {len(items)} 处错误，请更正"
    assert page.xpath("//textarea[@name='xml']")[0].text == broken
    assert [number for number, _meta in versions(pages)] == [1]

    # 校验 as the script asks for it: JSON, nothing stored either
    response = pages.client.post(EDITOR + "/validate", data={"xml": broken, "csrf_token": csrf},
                                 headers={"Accept": "application/json"})
    assert response.status_code == 200
    answer = response.json()
    assert answer["valid"] is False
    review = [e for e in answer["errors"] if e["element_id"] == "review"]
    assert review == [{"element_id": "review", "element_name": "受理审查",
                       "message": by_element["review"].split("：", 1)[1]}]

    # and without the script: the page again, the errors listed
    response = pages.client.post(EDITOR + "/validate", data={"xml": broken, "csrf_token": csrf})
    assert response.status_code == 422
    assert "人工任务须位于以角色命名的泳道" in response.text

    response = pages.client.post(EDITOR + "/validate", data={"xml": REFERENCE, "csrf_token": csrf},
                                 headers={"Accept": "application/json"})
    assert response.json() == {"valid": True, "errors": []}
    response = pages.client.post(EDITOR + "/validate", data={"xml": "<not-bpmn", "csrf_token": csrf},
                                 headers={"Accept": "application/json"})
    [error] = response.json()["errors"]
    assert error["element_id"] is None and error["message"].startswith("XML 语法错误")


def test_another_key_is_not_saved_as_this_workflow(pages: Pages) -> None:
    pages.sign_in("admin")
    _page, csrf = open_editor(pages)
    renamed = REFERENCE.replace('id="complaint_handling"', 'id="complaint_handling_copy"')
    response = pages.client.post(EDITOR + "/save", data={"xml": renamed, "comment": "改标识", "csrf_token": csrf})
    assert response.status_code == 422
    assert "须保持为 complaint_handling" in response.text
    with pages.scenario.product.reader() as uow:
        assert uow.session.scalar(select(func.count()).select_from(SpecVersion)) == 2  # the two reference files


def test_posts_need_the_page_csrf_token(pages: Pages) -> None:
    pages.sign_in("admin")
    open_editor(pages)
    edited = REFERENCE.replace('name="受理审查">', 'name="受理审查（改）">')
    for token in ("", "forged"):
        response = pages.client.post(EDITOR + "/save", data={"xml": edited, "comment": "说明", "csrf_token": token})
        assert response.status_code == 403
        assert "请求已失效" in response.text
        response = pages.client.post(EDITOR + "/validate", data={"xml": edited, "csrf_token": token},
                                     headers={"Accept": "application/json"})
        assert response.status_code == 403
    assert [number for number, _meta in versions(pages)] == [1]


def test_staff_cannot_save(pages: Pages) -> None:
    pages.sign_in("th-amr.liaison")
    csrf = csrf_of(pages.get("/tasks").text)
    response = pages.client.post(EDITOR + "/save", data={"xml": REFERENCE.replace("受理审查", "改"),
                                                         "comment": "说明", "csrf_token": csrf})
    assert response.status_code == 403
    assert [number for number, _meta in versions(pages)] == [1]
