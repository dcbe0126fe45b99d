"""A browser that asks for a page and meets an error gets a Chinese HTML page with the right status, never
the API's JSON: an unknown address (404), someone else's task (404, like a missing one), a refused or
conflicting action, a wrong method, bad parameters, and an unexpected error (500, with the request id,
logged once). The API, its documentation and the static files keep answering JSON."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Annotated

import httpx
import lxml.html
import pytest
from fastapi import FastAPI, Query
from fastapi.testclient import TestClient

from complaintflow.services import tasks as task_service
from complaintflow.settings import Settings
from tests.api.conftest import Api
from tests.api.test_hardening_web import assert_security_headers
from tests.live_server import serving
from tests.pages.conftest import Pages
from tests.pages.test_markup import assert_self_contained
from tests.workflows.scenario import Scenario
from web.app import create_app
from web.deps import ProductDep, SessionDep
from web.pages.sessions import SignedInDep

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def with_test_pages(app: FastAPI) -> FastAPI:
    """Page routes a test needs that the product has no page for yet: each calls the product as a page
    handler would, and lets its errors through."""

    @app.get("/test-only/tasks/{task_id}")
    def task_page(task_id: str, me: SignedInDep, session: SessionDep, product: ProductDep,
                  limit: Annotated[int, Query(ge=1, le=200)] = 50) -> dict[str, str]:
        assert me is not None
        view = product.runner.task_view(session, task_id, me.principal.actor)
        return {"task": view.task.id}

    @app.post("/test-only/tasks/{task_id}/claim")
    def claim(task_id: str, me: SignedInDep, product: ProductDep) -> dict[str, str]:
        assert me is not None
        task_service.claim_task(product, task_id, me.principal.actor)
        return {"claimed": task_id}

    @app.get("/test-only/boom")
    def boom() -> None:
        raise RuntimeError("kaboom")

    return app


@pytest.fixture
def pages(database_url: str) -> Iterator[Pages]:
    scenario = Scenario(database_url).seed()
    app = with_test_pages(create_app(Settings(database_url=database_url), product=scenario.product))
    with TestClient(app, follow_redirects=False) as client, TestClient(app) as api_client:
        yield Pages(client, Api(api_client, scenario, {}))


def shown(page: httpx.Response, status: int) -> dict[str, str]:
    """The error page's heading and message, after checking it is a Chinese HTML page like every other."""
    assert page.status_code == status, page.text
    assert page.headers["content-type"].startswith("text/html"), page.headers["content-type"]
    assert page.text.startswith('<!doctype html>\n<html lang="zh-CN">'), page.text[:80]
    assert_self_contained(page)
    tree = lxml.html.fromstring(page.text)
    [heading] = tree.xpath("//main//h1")
    [message] = tree.xpath("//main//section/p[1]")
    [back] = tree.xpath("//main//section/p/a")
    return {"title": heading.text_content(), "message": message.text_content(), "back": back.get("href"),
            "user": " ".join(tree.xpath('//span[@class="user"]/text()'))}


def test_an_unknown_page_is_a_chinese_404_page(pages: Pages) -> None:
    page = shown(pages.get("/no-such-page", headers=BROWSER), 404)
    assert page == {"title": "页面不存在", "message": "您访问的页面不存在，或您无权查看。请检查地址是否正确。",
                    "back": "/", "user": ""}
    assert "<title>页面不存在 · 消费投诉多部门协同办理平台</title>" in pages.get("/no-such-page").text
    pages.sign_in("th-amr.liaison")
    assert shown(pages.get("/no/such/page", headers=BROWSER), 404)["user"].startswith("太和县市场监督管理局联络员（")


def test_the_api_the_docs_and_static_files_keep_answering_json(pages: Pages) -> None:
    for path in ("/api/v1/no-such-thing", "/static/app/no-such.css", "/static/vendor/nothing/x.js"):
        response = pages.get(path, headers=BROWSER)
        assert response.status_code == 404 and response.headers["content-type"] == "application/json", path
        assert response.json()["detail"].startswith("未找到 / "), path
    assert pages.client.post("/docs", headers=BROWSER).json() == {"detail": "不支持该请求方法 / Method Not Allowed"}


def test_another_agencys_task_is_the_same_404_page_as_a_missing_one(pages: Pages) -> None:
    linquan = {"name": "临泉县某某超市", "region_code": "341221"}
    theirs = pages.scenario.task("lq-amr", "review", pages.scenario.submit(received_by=None, business=linquan))
    pages.sign_in("th-amr.liaison")
    other = shown(pages.get(f"/test-only/tasks/{theirs.id}", headers=BROWSER), 404)
    missing = shown(pages.get("/test-only/tasks/no-such-task", headers=BROWSER), 404)
    assert other == missing
    assert other["title"] == "页面不存在" and other["user"].startswith("太和县市场监督管理局联络员（")
    assert theirs.id not in pages.get(f"/test-only/tasks/{theirs.id}").text


def test_a_refused_action_and_bad_parameters_are_told_in_chinese(pages: Pages) -> None:
    task = pages.scenario.task("th-amr", "review", pages.scenario.submit())
    pages.api.post(f"/api/v1/tasks/{task.id}/claim", "th-amr.supervisor")
    pages.sign_in("th-amr.liaison")
    conflict = shown(pages.client.post(f"/test-only/tasks/{task.id}/claim", headers=BROWSER), 409)
    assert conflict["title"] == "操作未完成" and conflict["message"] == "任务已由 th-amr.supervisor 认领"
    bad = shown(pages.get(f"/test-only/tasks/{task.id}", params={"limit": "many"}, headers=BROWSER), 422)
    assert bad["title"] == "提交的内容有误" and bad["message"] == "请更正以下内容：每页条数须为整数。"
    wrong_method = pages.client.delete("/tasks", headers=BROWSER)
    assert shown(wrong_method, 405)["title"] == "不支持该操作" and wrong_method.headers["allow"] == "GET"


def test_an_unexpected_error_is_a_chinese_500_page_with_the_request_id_logged_once(
        database_url: str, caplog: pytest.LogCaptureFixture) -> None:
    scenario = Scenario(database_url)
    app = with_test_pages(create_app(Settings(database_url=database_url), product=scenario.product))
    caplog.set_level(logging.INFO)
    with serving(app) as url:
        response = httpx.get(f"{url}/test-only/boom", headers={**BROWSER, "X-Request-ID": "page-boom-7"})
    assert response.status_code == 500 and response.headers["content-type"].startswith("text/html")
    assert response.headers["x-request-id"] == "page-boom-7"
    assert_security_headers(response)
    tree = lxml.html.fromstring(response.text)
    assert tree.get("lang") == "zh-CN"
    assert tree.xpath("string(//main//h1)") == "系统出错"
    assert tree.xpath("string(//main//section/p[1])") == (
        "系统处理您的请求时出错，请稍后重试。如问题持续存在，请联系管理员并告知请求编号 page-boom-7。")
    assert "kaboom" not in response.text and "Traceback" not in response.text
    tracebacks = [r for r in caplog.records if r.exc_info is not None]
    assert len(tracebacks) == 1, [r.getMessage() for r in tracebacks]
    assert "page-boom-7" in tracebacks[0].getMessage() and "/test-only/boom" in tracebacks[0].getMessage()
