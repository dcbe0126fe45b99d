"""The pages over real databases, driven through HTTP like a browser without JavaScript: Starlette's
TestClient keeps the cookies, forms are posted with the CSRF token the page rendered."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import lxml.html
import pytest
from fastapi.testclient import TestClient
from lxml.html import HtmlElement

from complaintflow.settings import Settings
from tests.api.conftest import PASSWORD, Api
from tests.workflows.scenario import Scenario
from web.app import create_app
from web.pages.sessions import SESSION_COOKIE

CSRF_FIELD = re.compile(r'<input type="hidden" name="csrf_token" value="([^"]*)">')


def tree(html: str) -> HtmlElement:
    return lxml.html.fromstring(html)


def text(node: HtmlElement) -> str:
    """The element's text with its whitespace collapsed, as a person reads it."""
    return " ".join(node.text_content().split())


def one(root: HtmlElement, xpath: str) -> HtmlElement:
    """The one element ``xpath`` finds (the test fails when there are none or several)."""
    found = root.xpath(xpath)
    assert len(found) == 1, f"{xpath}: {len(found)} found"
    element: HtmlElement = found[0]
    return element


def csrf_of(html: str) -> str:
    """The CSRF token a page's form carries."""
    match = CSRF_FIELD.search(html)
    assert match is not None, html
    return match.group(1)


@dataclass
class Pages:
    client: TestClient
    api: Api  # the REST API over the same application (bearer tokens, no cookies needed)

    @property
    def scenario(self) -> Scenario:
        return self.api.scenario

    def login(self, username: str, password: str = PASSWORD, **extra: str) -> httpx.Response:
        """Open the sign-in page and post its form, as a browser would (redirects not followed)."""
        form = self.client.get("/login", params={"next": extra["next"]} if "next" in extra else None)
        assert form.status_code == 200, form.text
        response: httpx.Response = self.client.post("/login", data={
            "username": username, "password": password, "csrf_token": csrf_of(form.text), **extra})
        return response

    def sign_in(self, username: str) -> None:
        response = self.login(username)
        assert response.status_code == 303, response.text

    def session_cookie(self) -> str:
        value: str | None = self.client.cookies.get(SESSION_COOKIE)
        assert value, "not signed in"
        return value

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        response: httpx.Response = self.client.get(path, **kwargs)
        return response

    def sign_out_locally(self) -> None:
        """Forget the cookies (another person at the same browser)."""
        self.client.cookies.clear()


@pytest.fixture
def pages(database_url: str) -> Iterator[Pages]:
    scenario = Scenario(database_url).seed()
    app = create_app(Settings(database_url=database_url), product=scenario.product)
    # the pages' client follows no redirects (to see each 303); the API's is separate and keeps no cookies
    with TestClient(app, follow_redirects=False) as client, TestClient(app) as api_client:
        yield Pages(client, Api(api_client, scenario, {}))
