"""In Chromium: another agency's task and complaint are not found, exactly like ones that do not exist —
a Chinese 404 page in the staff frame, which says nothing of what the other agency holds."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import Visit
from tests.browser.test_sign_in_and_inbox import sign_in
from tests.workflows.scenario import Scenario

LINQUAN_BUSINESS = {"name": "临泉县某某超市", "region_code": "341221", "address": "安徽省阜阳市临泉县城关镇解放路2号"}


def test_another_agencys_task_and_complaint_look_like_missing_ones(s: Scenario, visit: Visit) -> None:
    theirs = s.submit(received_by=None, business=LINQUAN_BUSINESS)
    [their_review] = s.inbox("lq-amr", theirs)
    sign_in(visit)  # a liaison of Taihe
    page = visit.page

    answers = {}
    for path in (f"/tasks/{their_review.id}", "/tasks/00000000-0000-4000-8000-000000000000",
                 f"/complaints/{theirs.id}", "/complaints/999999"):
        response = page.goto(visit.url(path))
        assert response is not None
        main = page.locator("main")
        answers[path] = (response.status, main.locator("h1").inner_text(), main.locator("p").first.inner_text())
        expect(page.locator("header.topbar")).to_contain_text("太和县市场监督管理局")
        assert theirs.tracking_no not in page.content() and their_review.id not in main.inner_text()
    statuses = {status for status, _title, _text in answers.values()}
    assert statuses == {404}
    task_answers = {answers[p][1:] for p in answers if p.startswith("/tasks/")}
    complaint_answers = {answers[p][1:] for p in answers if p.startswith("/complaints/")}
    assert len(task_answers) == 1 and len(complaint_answers) == 1, answers
    visit.screenshot("not-found")
    visit.assert_clean(404)
