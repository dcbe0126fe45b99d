"""The pages in a real browser: Debian's Chromium driven by Playwright, against a real uvicorn server.

The server runs in a thread of the test process, so a test shares the seeded ``Scenario`` (its database,
its clock, the cheap password hashing of the test run) with the pages it drives. Chromium comes from the
distribution (scripts/setup-test-env.sh installs it): Playwright's own browser download is not used.

Every page records what it asked for, what it logged as an error and what the Content-Security-Policy
refused, so that a test can check that nothing left the server's origin and that the page ran cleanly.
Screenshots of the main pages go to ``test-artifacts/screenshots/`` (git-ignored) for people to look at;
they are not compared. A failed test leaves a screenshot of where it stopped in ``test-artifacts/failures/``.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Generator, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Request, Route, ViewportSize, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from complaintflow.settings import Settings
from tests.live_server import serving
from tests.workflows.scenario import Scenario
from web.app import create_app

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
FAILURES = ARTIFACTS / "failures"
CHROMIUM = Path("/usr/bin/chromium")
VIEWPORT: ViewportSize = {"width": 1366, "height": 768}  # the office screen the staff pages are made for
TIMEOUT_MS = 5_000  # a page of this server answers in milliseconds: a missing element fails fast
# schemes that reach a server; data: and blob: URLs never leave the page
NETWORK_SCHEMES = {"http", "https", "ws", "wss"}


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@dataclass
class Visit:
    """One browser tab on the server, with what it did: every request URL, console errors, uncaught
    script errors and Content-Security-Policy violations."""

    page: Page
    origin: str
    requests: list[str] = field(default_factory=list)
    console_errors: list[tuple[str, str]] = field(default_factory=list)  # (text, URL of the logging page)
    page_errors: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.origin + path

    def path(self) -> str:
        return urlsplit(self.page.url).path

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        target = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=target, full_page=True)
        return target

    def foreign_requests(self) -> list[str]:
        return [url for url in self.requests
                if urlsplit(url).scheme in NETWORK_SCHEMES and origin_of(url) != self.origin]

    def unexpected_console_errors(self, *expected_statuses: int) -> list[str]:
        """Console errors, without Chromium's note about a page that answered one of ``expected_statuses``
        (it logs "Failed to load resource: … status of 401" for a document answered with 401 too, and a
        refused sign-in or CSRF check is meant to answer so)."""
        expected = [re.compile(rf"^Failed to load resource: the server responded with a status of {status}\b")
                    for status in expected_statuses]
        return [f"{text} ({where})" for text, where in self.console_errors
                if not any(pattern.match(text) for pattern in expected)]

    def assert_clean(self, *expected_statuses: int) -> None:
        """Nothing was asked of another origin, no script failed, the CSP refused nothing, the console
        shows no error beyond the expected statuses."""
        assert self.foreign_requests() == []
        assert self.page_errors == []
        assert self.csp_violations == []
        assert self.unexpected_console_errors(*expected_statuses) == []


# Reports a CSP violation to the test. Playwright injects this before the page's own scripts and outside
# the page's policy, so the listener itself is not refused.
_CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.cfReportCspViolation(`${event.violatedDirective} blocked ${event.blockedURI || "inline"}`
                              + ` at ${event.sourceFile || document.location.href}:${event.lineNumber}`);
});
"""


@pytest.fixture
def database_url(sqlite_template: Path, tmp_path: Path) -> str:
    """SQLite only: these tests are about the pages; the database paths under them run on both backends
    in the API and service tests."""
    target = tmp_path / "complaintflow.db"
    shutil.copy(sqlite_template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def server(s: Scenario) -> Iterator[str]:
    """The application over the scenario's product under a real uvicorn server; its base URL."""
    app = create_app(Settings(database_url=s.database_url), product=s.product)
    with serving(app, access_log=False) as url:  # no access log: noise in a failure
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the whole run (it starts in about a second; a context per test keeps the
    tests apart). ``--no-sandbox``: Chromium refuses to start its sandbox as root, which CI is; the pages
    it opens are this product's own."""
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: scripts/setup-test-env.sh installs Debian's chromium"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield chromium
        chromium.close()


_CALL_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item,
                               call: pytest.CallInfo[None]) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep the outcome of a test's call phase on the item, for the page fixture's failure screenshot."""
    report = yield
    if report.when == "call":
        item.stash[_CALL_FAILED] = report.failed
    return report


@pytest.fixture
def visit(browser: Browser, server: str, request: pytest.FixtureRequest) -> Iterator[Visit]:
    """A fresh browser context (no cookies) with one tab on the server, in Chinese at 1366×768.

    Requests to any other origin are recorded and refused, so that a page that would fetch from a CDN
    fails here as it would in an intranet without internet access, instead of waiting on the network."""
    context = browser.new_context(base_url=server, locale="zh-CN", timezone_id="Asia/Shanghai", viewport=VIEWPORT)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    result = Visit(page, origin_of(server))

    def keep_to_origin(route: Route) -> None:
        if origin_of(route.request.url) == result.origin:
            route.continue_()
        else:
            route.abort("blockedbyclient")

    def on_request(req: Request) -> None:
        result.requests.append(req.url)

    def on_csp_violation(description: str) -> None:
        result.csp_violations.append(description)

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            result.console_errors.append((message.text, message.location.get("url", "")))

    context.route("**/*", keep_to_origin)
    context.on("request", on_request)
    page.on("console", on_console)
    page.on("pageerror", lambda error: result.page_errors.append(str(error)))
    context.expose_function("cfReportCspViolation", on_csp_violation)
    context.add_init_script(_CSP_LISTENER)
    try:
        yield result
    finally:
        if request.node.stash.get(_CALL_FAILED, False):
            FAILURES.mkdir(parents=True, exist_ok=True)
            name = re.sub(r"[^\w.-]+", "_", request.node.name)
            with suppress(PlaywrightError):  # the page may be what failed; the test's own error tells more
                page.screenshot(path=FAILURES / f"{name}.png", full_page=True)
        context.close()
