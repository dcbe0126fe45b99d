"""The web surface under hostile or unlucky conditions: request ids, files in other encodings, one log
record per unexpected error, no secrets in the access log, security headers, the docs page without a CDN,
``/metrics`` for operations only, and 503 (never 500) while the database is unavailable."""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError, OperationalError

from bench._server import ROOT, servers
from complaintflow.settings import Settings
from engine.db.session import make_engine
from tests.api.conftest import PASSWORD, Api
from tests.live_server import serving
from tests.workflows.scenario import Scenario, complaint_body
from web import docs
from web.access_log import DropQueryStrings
from web.app import create_app
from web.errors import is_outage

WORKFLOW = ROOT / "workflows" / "complaint_handling.bpmn"
SECURITY_HEADERS = {"x-content-type-options": "nosniff", "x-frame-options": "DENY", "referrer-policy": "no-referrer"}
METRICS_TOKEN = "metrics-token-0123456789abcdef0123"


def assert_security_headers(response: httpx.Response, *, no_store: bool = True) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (response.request.url, name)
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy.split("script-src", 1)[1].split(";")[0]
    if no_store:
        assert response.headers.get("cache-control") == "no-store", response.request.url


# ----------------------------------------------------------------------------------------- item 5: 500s

def test_a_request_id_that_is_not_short_printable_ascii_is_replaced(api: Api) -> None:
    """It was decoded as UTF-8 unchecked: a non-UTF-8 header answered 500 on every path."""
    for bad in (b"\xff\xfe\xfa", "请求".encode(), b"a b", b"x" * 65, b"id\x7f"):
        response = api.client.get("/healthz", headers={b"X-Request-ID": bad})
        assert response.status_code == 200, bad
        assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"]), bad
    kept = api.client.get("/healthz", headers={"X-Request-ID": "edge-01.retry_2"})
    assert kept.headers["x-request-id"] == "edge-01.retry_2"


def _in(encoding: str, declared: str | None = None) -> bytes:
    """The reference workflow re-encoded, its XML declaration naming ``declared`` (default: the encoding)."""
    source = WORKFLOW.read_text(encoding="utf-8")
    assert source.startswith("<?xml version='1.0' encoding='UTF-8'?>")
    return source.replace("encoding='UTF-8'", f"encoding='{declared or encoding.upper()}'", 1).encode(encoding)


def test_a_utf16_or_gb18030_workflow_validates_and_uploads_alike_and_is_stored_as_utf8(api: Api) -> None:
    """A UTF-16 file (BOM and declaration) was "valid" and then its upload answered 500: the stored text
    was made with ``bytes.decode("utf-8")``."""
    original = WORKFLOW.read_bytes()
    for encoding in ("utf-16", "utf-16-be", "gb18030"):
        body = _in(encoding)
        assert body != original
        headers = {"Content-Type": "application/xml"}
        validated = api.post("/api/v1/workflows/validate", "admin", content=body, headers=headers)
        assert validated.status_code == 200 and validated.json() == {"valid": True, "errors": []}, validated.text
        uploaded = api.post("/api/v1/workflows", "admin", content=body, headers=headers)
        assert uploaded.status_code == 201, uploaded.text
        stored = uploaded.json()
        # the same content in another encoding is the same version: stored as the UTF-8 file
        assert stored["key"] == "complaint_handling" and stored["version"] == 1, stored
        xml = api.get("/api/v1/workflows/complaint_handling/versions/1/bpmn", "admin")
        assert xml.content == original
    changed = WORKFLOW.read_text(encoding="utf-8").replace("encoding='UTF-8'", "encoding='GB18030'", 1)
    changed = changed.replace('name="投诉处理"', 'name="投诉处理（新）"', 1)
    assert "投诉处理（新）" in changed
    uploaded = api.post("/api/v1/workflows", "admin", content=changed.encode("gb18030"),
                        headers={"Content-Type": "application/xml"})
    assert uploaded.status_code == 201 and uploaded.json()["version"] == 2, uploaded.text
    xml = api.get("/api/v1/workflows/complaint_handling/versions/2/bpmn", "admin")
    assert xml.text.startswith("<?xml version='1.0' encoding='UTF-8'?>") and "投诉处理（新）" in xml.text


def test_a_workflow_not_in_its_declared_encoding_is_refused_by_both_endpoints(api: Api) -> None:
    body = _in("utf-8", declared="GB2312")  # its Chinese names are UTF-8 bytes, not GB2312
    headers = {"Content-Type": "application/xml"}
    validated = api.post("/api/v1/workflows/validate", "admin", content=body, headers=headers)
    assert validated.status_code == 200 and validated.json()["valid"] is False
    assert "encoding" in validated.json()["errors"][0]["message"]
    uploaded = api.post("/api/v1/workflows", "admin", content=body, headers=headers)
    assert uploaded.status_code == 400 and "encoding" in uploaded.json()["detail"][0]["message"], uploaded.text
    unknown = _in("utf-8", declared="X-NO-SUCH-CODEC")
    assert api.post("/api/v1/workflows/validate", "admin", content=unknown, headers=headers).json()["valid"] is False
    assert api.post("/api/v1/workflows", "admin", content=unknown, headers=headers).status_code == 400
    # a DOCTYPE is refused in UTF-16 too (the check looked for the ASCII bytes of "<!DOCTYPE")
    hostile = WORKFLOW.read_text(encoding="utf-8").replace(
        "encoding='UTF-8'?>", "encoding='UTF-16'?><!DOCTYPE x [<!ENTITY a 'aaaa'>]>", 1).encode("utf-16")
    validated = api.post("/api/v1/workflows/validate", "admin", content=hostile, headers=headers)
    assert validated.json()["valid"] is False and "DOCTYPE" in validated.json()["errors"][0]["message"]
    assert api.post("/api/v1/workflows", "admin", content=hostile, headers=headers).status_code == 400


def test_an_unexpected_error_is_logged_once_with_its_request_id(s: Scenario,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    """Starlette's error middleware called the ``Exception`` handler (which logged) and re-raised, and
    uvicorn logged the same traceback again: two records per 500."""
    app = create_app(Settings(database_url=s.database_url), product=s.product)

    @app.get("/api/v1/test-only/boom")  # an API path answers JSON (a page path a Chinese HTML page)
    def boom() -> None:
        raise RuntimeError("kaboom")

    caplog.set_level(logging.INFO)
    with serving(app) as url:
        response = httpx.get(f"{url}/api/v1/test-only/boom?code=SECRET-CODE", headers={"X-Request-ID": "boom-1"})
    assert response.status_code == 500
    assert response.json() == {"detail": "服务器内部错误 / internal error", "request_id": "boom-1"}
    assert_security_headers(response)
    tracebacks = [r for r in caplog.records if r.exc_info is not None]
    assert len(tracebacks) == 1, [r.getMessage() for r in tracebacks]
    assert "boom-1" in tracebacks[0].getMessage() and "/api/v1/test-only/boom" in tracebacks[0].getMessage()
    server_records = [r for r in caplog.records if r.name != "httpx"]  # httpx logs the URL the test asked for
    assert not [r for r in server_records if "SECRET-CODE" in r.getMessage()]


# ------------------------------------------------------------------------------------------ item 7: logs

def test_the_access_log_filter_drops_the_query_string_of_uvicorn_records() -> None:
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5000", "GET", "/api/v1/public/complaints/TS-1?code=K7Q2M9", "1.1", 200),
                               None)
    assert DropQueryStrings().filter(record)
    assert record.getMessage() == '127.0.0.1:5000 - "GET /api/v1/public/complaints/TS-1?[redacted] HTTP/1.1" 200'


def test_complaintflow_serve_logs_no_tracking_code_search_term_token_or_password(s: Scenario, tmp_path: Path) -> None:
    """A real ``complaintflow serve``: its access log recorded ``?code=`` and ``?q=`` in full."""
    env = {**os.environ, "DATABASE_URL": s.database_url}
    s.close()  # the server is its own process
    with servers(env, 1, logs=tmp_path) as ([url], _processes):
        submitted = httpx.post(f"{url}/api/v1/public/complaints", json=complaint_body())
        assert submitted.status_code == 201, submitted.text
        tracking_no, code = submitted.json()["tracking_no"], submitted.json()["tracking_code"]
        looked_up = httpx.get(f"{url}/api/v1/public/complaints/{tracking_no}", params={"code": code})
        assert looked_up.status_code == 200, looked_up.text
        token = httpx.post(f"{url}/api/v1/auth/token",
                           data={"username": "th-amr.liaison", "password": PASSWORD}).json()["access_token"]
        searched = httpx.get(f"{url}/api/v1/complaints", params={"q": "空调不制冷SEARCHTERM"},
                             headers={"Authorization": f"Bearer {token}"})
        assert searched.status_code == 200, searched.text
        careless = httpx.get(f"{url}/api/v1/me", params={"access_token": token, "password": PASSWORD})
        assert careless.status_code == 401
        assert "server" not in submitted.headers  # uvicorn's own header is off
        assert_security_headers(looked_up)
    logged = (tmp_path / "server-0.log").read_text(encoding="utf-8", errors="replace")
    assert f"GET /api/v1/public/complaints/{tracking_no}?[redacted]" in logged, logged[-3000:]
    for secret in (code, "SEARCHTERM", "%E7%A9%BA", token, PASSWORD, token.split(".")[-1]):
        assert secret not in logged, secret


def test_a_database_error_shows_the_sql_but_not_its_values(database_url: str) -> None:
    """A logged traceback of a failed statement printed its parameters (e.g. a tracking code)."""
    engine = make_engine(database_url)
    try:
        with pytest.raises(DBAPIError) as failed, engine.connect() as conn:
            conn.execute(text("SELECT * FROM no_such_table WHERE code = :code"), {"code": "SECRET-K7Q2M9"})
    finally:
        engine.dispose()
    assert "no_such_table" in str(failed.value) and "SECRET-K7Q2M9" not in str(failed.value)


# --------------------------------------------------------------------------------------- item 12: headers

def test_every_answer_carries_the_security_headers(api: Api) -> None:
    assert_security_headers(api.get("/api/v1/me", "th-amr.liaison"))  # JSON with personal data
    assert_security_headers(api.get("/api/v1/me", None))  # 401
    assert_security_headers(api.get("/api/v1/nowhere", None))  # 404
    assert_security_headers(api.client.post("/api/v1/public/complaints", content=b"{", headers={
        "Content-Type": "application/json"}))  # 422
    assert_security_headers(api.client.get("/healthz"))
    assert_security_headers(api.client.get("/openapi.json"))
    page = api.client.get("/docs")
    assert page.status_code == 200
    for name, value in SECURITY_HEADERS.items():
        assert page.headers[name] == value
    assert page.headers["cache-control"] == "no-store"
    docs_policy = page.headers["content-security-policy"]
    assert "script-src 'self';" in docs_policy and "frame-ancestors 'none'" in docs_policy


def test_the_docs_page_loads_nothing_from_elsewhere_and_runs_no_inline_script(api: Api) -> None:
    page = api.client.get("/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page.text, re.I), page.text
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", page.text, re.S | re.I)
    assert len(scripts) == 2 and all("src=" in attributes and not body.strip() for attributes, body in scripts)
    assets = re.findall(r"""(?:src|href)="(/static/[^"]+)\"""", page.text)
    assert len(assets) == 3
    for asset in assets:
        served = api.client.get(asset)
        assert served.status_code == 200 and len(served.content) > 100, asset
        assert served.headers["content-type"].split(";")[0] in ("text/css", "text/javascript"), asset
        assert "cache-control" not in served.headers  # public files may be cached
    assert "SwaggerUIBundle" in api.client.get("/static/app/docs.js").text
    assert api.client.get("/redoc").status_code == 404  # ReDoc loads from a CDN: off
    assert api.client.get("/static/vendor/swagger-ui/package.json").status_code == 404
    assert api.client.get("/static/vendor/swagger-ui/..%2F..%2Fpackage.json").status_code == 404


def test_the_docs_page_explains_in_chinese_when_swagger_ui_is_not_installed(
        api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(docs, "SWAGGER_UI", tmp_path / "node_modules" / "swagger-ui-dist")
    page = api.client.get("/docs")
    assert page.status_code == 503 and "npm ci" in page.text and "接口文档" in page.text
    assert_security_headers(page)
    assert api.client.get("/openapi.json").status_code == 200


def test_metrics_answer_only_this_machine_when_no_token_is_configured(api: Api) -> None:
    assert api.client.get("/metrics").status_code == 404  # the test client's address is "testclient"
    local = TestClient(api.client.app, client=("127.0.0.1", 50000))
    answered = local.get("/metrics")
    assert answered.status_code == 200 and "complaintflow_http_requests_total" in answered.text
    assert_security_headers(answered)
    assert local.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 404  # via a proxy
    assert TestClient(api.client.app, client=("::1", 50000)).get("/metrics").status_code == 200
    assert TestClient(api.client.app, client=("10.0.0.8", 50000)).get("/metrics").status_code == 404


def test_metrics_need_the_configured_token(s: Scenario) -> None:
    app = create_app(Settings(database_url=s.database_url, complaintflow_metrics_token=METRICS_TOKEN),
                     product=s.product)
    with TestClient(app, client=("127.0.0.1", 50000)) as client:
        refused = client.get("/metrics")  # from this machine too: a token is configured
        assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
        assert client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN[:-1]}x"}).status_code == 401
        assert client.get("/metrics", headers={"Authorization": f"Basic {METRICS_TOKEN}"}).status_code == 401
        answered = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        assert answered.status_code == 200 and "complaintflow_open_tasks" in answered.text


# --------------------------------------------------------------------------- item 14: database outages

def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "1"
    assert response.json()["detail"].startswith("数据库暂时不可用，请稍后重试")
    assert_security_headers(response)


def test_a_database_nobody_listens_on_answers_503_with_retry_after() -> None:
    """Connecting failed with psycopg's OperationalError, which was not a dropped connection: 500."""
    settings = Settings(database_url="postgresql+psycopg://postgres@127.0.0.1:1/complaintflow",
                        complaintflow_secret_key="k" * 48)
    with TestClient(create_app(settings)) as client:
        assert_unavailable(client.get("/healthz"))
        assert_unavailable(client.post("/api/v1/public/complaints", json=complaint_body()))
        assert_unavailable(client.post("/api/v1/auth/token", data={"username": "admin", "password": PASSWORD}))


def test_sqlite_locked_is_an_outage_but_its_sql_mistakes_are_not(tmp_path: Path) -> None:
    """SQLite raises OperationalError for "database is locked" (503, retry) and for a wrong table (a bug: 500)."""
    url = f"sqlite:///{tmp_path / 'locked.db'}"
    holder, waiter = create_engine(url), create_engine(url, connect_args={"timeout": 0})
    try:
        with holder.connect() as held:
            held.exec_driver_sql("CREATE TABLE t (x INTEGER)")
            held.commit()
            held.exec_driver_sql("BEGIN EXCLUSIVE")
            with pytest.raises(OperationalError) as locked, waiter.connect() as conn:
                conn.exec_driver_sql("SELECT * FROM t")
            held.rollback()
        with pytest.raises(OperationalError) as mistake, waiter.connect() as conn:
            conn.exec_driver_sql("SELECT * FROM no_such_table")
    finally:
        holder.dispose()
        waiter.dispose()
    assert "database is locked" in str(locked.value) and is_outage(locked.value)
    assert not is_outage(mistake.value)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # a server that refuses connections
def test_a_restarting_database_answers_503_then_service_resumes(api: Api, database_url: str) -> None:
    """What a PostgreSQL restart does: pooled connections are cut and new ones are refused for a while."""
    assert api.get("/api/v1/me", "th-amr.liaison").status_code == 200
    name = database_url.rsplit("/", 1)[1]
    admin = create_engine(database_url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"),
                         {"name": name})
        for _ in range(2):  # the first meets the dropped connection, the second a refused connect
            assert_unavailable(api.client.get("/healthz"))
        assert_unavailable(api.client.post("/api/v1/public/complaints", json=complaint_body()))
        assert_unavailable(api.client.post("/api/v1/auth/token",
                                           data={"username": "th-amr.liaison", "password": PASSWORD}))
        assert_unavailable(api.get("/api/v1/tasks", "th-amr.liaison"))
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        admin.dispose()
    assert api.client.get("/healthz").status_code == 200
    assert api.client.post("/api/v1/public/complaints", json=complaint_body()).status_code == 201
