"""The inbox page lists only what the user's roles may work: the liaison does not see the supervisor's
extension approval (which would answer 403 when opened); the supervisor sees the agency's whole work."""

from __future__ import annotations

from tests.pages.conftest import Pages
from tests.pages.test_inbox import inbox, rows


def test_the_inbox_page_shows_each_user_the_lanes_they_work(pages: Pages) -> None:
    report = pages.api.submit(kind="report")
    pages.api.act("th-amr.liaison", "verify_clue", report["id"], {"decision": "extend", "reason": "需要调取外地证据"})
    review = pages.api.submit()

    pages.sign_in("th-amr.liaison")
    listed = rows(inbox(pages))
    assert [(r["tracking-no"], r["title"]) for r in listed] == [(review["tracking_no"], "受理审查")]
    assert "共 1 项" in inbox(pages) and rows(inbox(pages, filter="unassigned")) == listed

    pages.sign_out_locally()
    pages.sign_in("th-amr.supervisor")
    html = inbox(pages)
    assert sorted((r["tracking-no"], r["title"]) for r in rows(html)) == sorted(
        [(review["tracking_no"], "受理审查"), (report["tracking_no"], "延期审批")])
    assert "共 2 项" in html

    pages.api.act("th-amr.supervisor", "approve_extension", report["id"], {"approved": True})
    pages.sign_out_locally()
    pages.sign_in("th-amr.liaison")  # the clue is back with the liaison, who also holds the enforcement role
    assert sorted(r["title"] for r in rows(inbox(pages))) == ["受理审查", "线索核查"]
