"""归档 on the complaint page: the button only for a supervisor of the handling agency once the process has
ended, posted with the CSRF token then post/redirect/get; refusals in Chinese; once archived the tag 已归档,
the time, the SHA-256 and a download that gives the stored bytes."""

from __future__ import annotations

import hashlib

from lxml.html import HtmlElement

from tests.agencies.test_archive import closed_complaint
from tests.pages.conftest import Pages, csrf_of, text, tree


def section(html: str) -> list[HtmlElement]:
    found: list[HtmlElement] = tree(html).xpath('//section[@id="archive"]')
    return found


def test_the_supervisor_archives_from_the_page_and_downloads_the_case_file(pages: Pages) -> None:
    c = closed_complaint(pages.scenario)
    running = pages.api.submit()
    path = f"/complaints/{c.id}"
    pages.sign_in("th-amr.liaison")
    assert section(pages.get(path).text) == []  # a liaison has no button
    pages.sign_out_locally()

    pages.sign_in("th-amr.supervisor")
    assert section(pages.get(f"/complaints/{running['id']}").text) == []  # not ended: nothing to archive
    shown = pages.get(path)
    [before] = section(shown.text)
    assert before.xpath('.//form[@method="post"]')[0].get("action") == f"{path}/archive"
    assert [text(b) for b in before.xpath(".//button")] == ["归档"]

    forged = pages.client.post(f"{path}/archive", data={"csrf_token": "forged"})
    assert forged.status_code == 403 and pages.scenario.complaint(c.id).archived_at is None

    done = pages.client.post(f"{path}/archive", data={"csrf_token": csrf_of(shown.text)})
    assert done.status_code == 303 and done.headers["location"] == f"{path}#archive"
    stored = pages.scenario.complaint(c.id)
    assert stored.archive_sha256 is not None
    after = pages.get(path)
    [archived] = section(after.text)
    assert "已归档" in text(archived.xpath('.//span[contains(@class, "tag")]')[0])
    assert text(archived.xpath('.//code[@class="sha256"]')[0]) == stored.archive_sha256
    assert "2026年11月18日" in text(archived.xpath(".//time")[0])
    link = archived.xpath('.//a[@class="download"]')[0].get("href")
    download = pages.get(link)
    assert download.status_code == 200 and hashlib.sha256(download.content).hexdigest() == stored.archive_sha256
    assert pages.get(link).content == download.content
    # the status stays as it was, the tag says archived beside it
    assert "已办结" in text(tree(after.text).xpath("//h1")[0])

    twice = pages.client.post(f"{path}/archive", data={"csrf_token": csrf_of(after.text)})
    assert twice.status_code == 409 and "已归档" in twice.text
    assert section(pages.get(f"/complaints/{running['id']}").text) == []


def test_refusals_are_shown_in_chinese(pages: Pages) -> None:
    c = closed_complaint(pages.scenario)
    running = pages.api.submit()
    pages.sign_in("th-amr.liaison")
    token = csrf_of(pages.get(f"/complaints/{c.id}").text)  # the page's sign-out form carries it
    refused = pages.client.post(f"/complaints/{c.id}/archive", data={"csrf_token": token})
    assert refused.status_code == 403 and "只有承办单位的负责人可以归档" in refused.text
    assert "only a supervisor" not in refused.text
    pages.sign_out_locally()

    pages.sign_in("th-amr.supervisor")
    token = csrf_of(pages.get(f"/complaints/{c.id}").text)
    early = pages.client.post(f"/complaints/{running['id']}/archive", data={"csrf_token": token})
    assert early.status_code == 409 and "投诉件尚未办结，不能归档" in early.text
    assert pages.get(f"/complaints/{c.id}/archive.zip").status_code == 404  # nothing archived yet
    pages.sign_out_locally()

    pages.sign_in("lq-amr.supervisor")
    token = csrf_of(pages.get("/tasks").text)
    other = pages.client.post(f"/complaints/{c.id}/archive", data={"csrf_token": token})
    assert other.status_code == 404 and pages.scenario.complaint(c.id).archived_at is None
