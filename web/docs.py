"""The API documentation page (``/docs``), served entirely from this server.

FastAPI's own page loads Swagger UI from a CDN and starts it with an inline script; this one takes
Swagger UI's files from the npm package ``swagger-ui-dist`` (pinned in package.json, installed into
``node_modules/`` by ``npm ci``) and starts it from ``web/static/docs.js``, so the page runs under a
Content-Security-Policy without inline script and tells no third party who reads the documentation.
Without ``node_modules`` the page says in Chinese how to install it; ``/openapi.json`` still answers.

The same routes serve every static file of the product, each named in an allow-list: the browser
packages the pages use (htmx, the bpmn-js diagram viewer) under ``/static/vendor/…`` and the product's
own scripts and styles (``web/static/``) under ``/static/app/…``.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse

from engine.errors import NotFound

ROOT = Path(__file__).resolve().parents[1]
SWAGGER_UI = ROOT / "node_modules" / "swagger-ui-dist"
HTMX = ROOT / "node_modules" / "htmx.org" / "dist"
BPMN_JS = ROOT / "node_modules" / "bpmn-js" / "dist"
STATIC = Path(__file__).resolve().parent / "static"
VENDOR_PATH = "/static/vendor/swagger-ui"
APP_STATIC_PATH = "/static/app"
CSS = "text/css; charset=utf-8"
JS = "text/javascript; charset=utf-8"
ASSETS = {  # the only files of the package that are served
    "swagger-ui.css": CSS,
    "swagger-ui-bundle.js": JS,
}
# every file served under /static/: named here one by one (never a directory listing or a path from the
# request), so nothing else of node_modules/ or the source tree can be fetched
VENDOR_ASSETS = {  # /static/vendor/<package>/<file>, besides Swagger UI's
    "htmx": (HTMX, {"htmx.min.js": JS}),
    # the diagram viewer (with zoom and pan) and the two stylesheets it needs; its icon font is the modeler's
    "bpmn-js": (BPMN_JS, {"bpmn-navigated-viewer.production.min.js": JS, "bpmn-modeler.production.min.js": JS}),
    "bpmn-js-assets": (BPMN_JS / "assets", {"diagram-js.css": CSS, "bpmn-js.css": CSS}),
    # the modeler's palette and context pad icons: bpmn.css loads ../font/bpmn.woff2 (the embedded variant's
    # data: URIs are refused by the pages' policy), which from /static/vendor/bpmn-font/ is /static/vendor/font/
    "bpmn-font": (BPMN_JS / "assets" / "bpmn-font" / "css", {"bpmn.css": CSS}),
    "font": (BPMN_JS / "assets" / "bpmn-font" / "font", {"bpmn.woff2": "font/woff2", "bpmn.woff": "font/woff"}),
}
# web/static/<file>, served at /static/app/<file>: the frame's stylesheet, and each page's own script and style
APP_ASSETS = {"docs.js": JS, "app.css": CSS, "task.css": CSS, "task-form.js": JS, "complaint.css": CSS,
              "diagram.js": JS, "public.css": CSS, "supervision.css": CSS, "favicon.svg": "image/svg+xml",
              "editor.js": JS, "editor.css": CSS, "admin.css": CSS, "workflow-diff.js": JS, "diagram-kit.js": JS,
              "spiffworkflow.json": "application/json; charset=utf-8"}

# the pages' policy, plus what Swagger UI needs: inline styles (it sets some on elements it builds) and
# data: images (its icons are data URIs in its stylesheet). Scripts still come from this origin only.
DOCS_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")

PAGE = f"""<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>complaintflow API v1 文档</title>
<link rel="stylesheet" href="{VENDOR_PATH}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-openapi-url="/openapi.json"></div>
<script src="{VENDOR_PATH}/swagger-ui-bundle.js"></script>
<script src="{APP_STATIC_PATH}/docs.js"></script>
</body>
</html>
"""

NOT_INSTALLED = """<!doctype html>
<html lang="zh-CN">
<head><meta charset="utf-8"><title>接口文档暂不可用</title></head>
<body>
<h1>接口文档界面暂不可用</h1>
<p>服务器上缺少 Swagger UI 的文件（<code>node_modules/swagger-ui-dist</code>）。请在项目目录运行
<code>npm ci</code> 安装后刷新本页。</p>
<p>接口描述（OpenAPI）仍可从 <a href="/openapi.json">/openapi.json</a> 获取。</p>
</body>
</html>
"""

router = APIRouter(include_in_schema=False)


def installed() -> bool:
    return all((SWAGGER_UI / name).is_file() for name in ASSETS)


@router.get("/docs", response_class=HTMLResponse)
async def docs() -> HTMLResponse:
    if not installed():
        return HTMLResponse(NOT_INSTALLED, status_code=503)
    return HTMLResponse(PAGE, headers={"Content-Security-Policy": DOCS_CSP})


@router.get(VENDOR_PATH + "/{name}")
async def swagger_ui_asset(name: str) -> FileResponse:
    return _asset(SWAGGER_UI, name, ASSETS)


@router.get("/static/vendor/{package}/{name}")
async def vendor_asset(package: str, name: str) -> FileResponse:
    """A browser package's file (htmx for the pages), from node_modules/ as pinned in package.json."""
    if package not in VENDOR_ASSETS:
        raise NotFound(f"asset {name} not found")
    directory, allowed = VENDOR_ASSETS[package]
    return _asset(directory, name, allowed)


@router.get(APP_STATIC_PATH + "/{name}")
async def app_asset(name: str) -> FileResponse:
    """The product's own scripts and styles (web/static/)."""
    return _asset(STATIC, name, APP_ASSETS)


def _asset(directory: Path, name: str, allowed: dict[str, str]) -> FileResponse:
    path = directory / name
    if name not in allowed or not path.is_file():
        raise NotFound(f"asset {name} not found")
    return FileResponse(path, media_type=allowed[name])
