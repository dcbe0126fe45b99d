"""What every page is made of: Chinese, autoescaped, no inline script or style (the CSP forbids them),
nothing from another origin, and only the named static files served."""

from __future__ import annotations

import json
import re

import httpx

from tests.api.test_hardening_web import assert_security_headers
from tests.pages.conftest import Pages
from web.docs import ROOT


def assert_self_contained(page: httpx.Response) -> list[str]:
    """No inline script, style element or style attribute, nothing from another origin; the page's assets."""
    html = page.text
    assert html.startswith("<!doctype html>\n<html lang=\"zh-CN\">"), html[:80]
    assert not re.search(r"""(src|href|action)\s*=\s*["']?\s*(https?:)?//""", html, re.I), html
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S | re.I)
    assert scripts and all("src=" in attributes and not body.strip() for attributes, body in scripts)
    assert not re.search(r"<style\b|\sstyle\s*=|\son[a-z]+\s*=", html, re.I), html
    assert_security_headers(page)
    return re.findall(r"""(?:src|href)="(/static/[^"]+)\"""", html)


def test_pages_run_under_the_content_security_policy_with_their_assets_from_this_server(pages: Pages) -> None:
    pages.api.submit()
    assets = assert_self_contained(pages.get("/login"))
    refused = pages.client.post("/login", data={})
    assert refused.status_code == 403
    assert_self_contained(refused)
    pages.sign_in("th-amr.liaison")
    assets += assert_self_contained(pages.get("/tasks"))
    assert_self_contained(pages.get("/tasks", params={"filter": "overdue"}))  # the empty inbox
    assert sorted(set(assets)) == ["/static/app/app.css", "/static/app/favicon.svg", "/static/vendor/htmx/htmx.min.js"]
    for asset in set(assets):
        served = pages.get(asset)
        assert served.status_code == 200 and len(served.content) > 100, asset
        assert served.headers["content-type"].split(";")[0] in ("text/css", "text/javascript", "image/svg+xml"), asset
        assert "cache-control" not in served.headers  # public files may be cached
    pinned = json.loads((ROOT / "package.json").read_text())["dependencies"]["htmx.org"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", pinned)  # an exact version, as the lockfile holds it
    assert f'this.version="{pinned}"' in pages.get("/static/vendor/htmx/htmx.min.js").text  # the file npm installed


def test_only_the_named_static_files_are_served(pages: Pages) -> None:
    for path in ("/static/vendor/htmx/package.json", "/static/vendor/htmx/htmx.js",
                 "/static/vendor/htmx/..%2Fpackage.json", "/static/vendor/htmx.org/htmx.min.js",
                 "/static/vendor/swagger-ui/htmx.min.js",
                 "/static/app/__init__.py", "/static/app/..%2Fapp.py", "/static/app/index.html"):
        assert pages.get(path).status_code == 404, path


def test_what_people_typed_is_escaped(pages: Pages) -> None:
    pages.api.submit(subject="<script>alert(1)</script>空调")
    pages.sign_in("th-amr.liaison")
    page = pages.get("/tasks").text
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;空调" in page
    pages.sign_out_locally()
    typed = pages.login("th-amr.liaison\"><b>x", "wrong")
    assert typed.status_code == 401 and "<b>x" not in typed.text and "&#34;&gt;&lt;b&gt;x" in typed.text
