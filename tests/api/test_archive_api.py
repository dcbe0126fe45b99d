"""POST /api/v1/complaints/{id}/archive and GET …/archive.zip over HTTP, on SQLite and PostgreSQL: the
stored SHA-256 is the downloaded bytes', a second download gives the same bytes, refusals answer in Chinese,
and an archived complaint refuses changes (409)."""

from __future__ import annotations

import hashlib
import io
import zipfile
from urllib.parse import quote

from sqlalchemy import update

from agencies.tables import Complaint
from tests.agencies.test_archive import closed_complaint
from tests.api.conftest import Api

SUPERVISOR = "th-amr.supervisor"


def test_the_supervisor_archives_and_the_involved_agencies_download_it(api: Api) -> None:
    c = closed_complaint(api.scenario)
    before = api.get(f"/api/v1/complaints/{c.id}", SUPERVISOR).json()
    assert before["archived_at"] is None and before["archive_sha256"] is None
    assert api.get(f"/api/v1/complaints/{c.id}/archive.zip", SUPERVISOR).status_code == 404  # not archived yet

    response = api.post(f"/api/v1/complaints/{c.id}/archive", SUPERVISOR)
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"complaint_id", "archived_at", "sha256", "size"} and body["complaint_id"] == c.id

    download = api.get(f"/api/v1/complaints/{c.id}/archive.zip", "th-amr.liaison")
    assert download.status_code == 200 and download.headers["content-type"] == "application/zip"
    assert hashlib.sha256(download.content).hexdigest() == body["sha256"] and len(download.content) == body["size"]
    assert download.headers["etag"] == f'"{body["sha256"]}"'
    assert quote(f"卷宗_{c.tracking_no}.zip") in download.headers["content-disposition"]
    assert "卷内目录.pdf" in zipfile.ZipFile(io.BytesIO(download.content)).namelist()
    again = api.get(f"/api/v1/complaints/{c.id}/archive.zip", SUPERVISOR)
    assert again.content == download.content
    unchanged = api.get(f"/api/v1/complaints/{c.id}/archive.zip", SUPERVISOR,
                        headers={"If-None-Match": download.headers["etag"]})
    assert unchanged.status_code == 304 and unchanged.content == b""

    detail = api.get(f"/api/v1/complaints/{c.id}", SUPERVISOR).json()
    assert detail["archive_sha256"] == body["sha256"] and detail["archived_at"] == body["archived_at"]
    assert detail["status"] == "closed"
    # another agency sees nothing of it
    assert api.get(f"/api/v1/complaints/{c.id}/archive.zip", "lq-amr.supervisor").status_code == 404


def test_refusals_are_in_chinese(api: Api) -> None:
    c = closed_complaint(api.scenario)
    running = api.submit()
    liaison = api.post(f"/api/v1/complaints/{c.id}/archive", "th-amr.liaison")
    assert liaison.status_code == 403 and "只有承办单位的负责人可以归档" in liaison.json()["detail"]
    other = api.post(f"/api/v1/complaints/{c.id}/archive", "lq-amr.supervisor")
    assert other.status_code == 404
    still_open = api.post(f"/api/v1/complaints/{running['id']}/archive", SUPERVISOR)
    assert still_open.status_code == 409 and "投诉件尚未办结，不能归档" in still_open.json()["detail"]
    assert api.post(f"/api/v1/complaints/{c.id}/archive", SUPERVISOR).status_code == 201
    twice = api.post(f"/api/v1/complaints/{c.id}/archive", SUPERVISOR)
    assert twice.status_code == 409 and "已归档" in twice.json()["detail"]


def test_an_archived_complaint_refuses_task_work_and_designation(api: Api) -> None:
    created = api.submit()
    task = api.task("th-amr.liaison", "review", created["id"])
    with api.scenario.product.uow() as uow:  # archived while its process waits: only a test makes one
        uow.session.execute(update(Complaint).where(Complaint.id == created["id"]).values(
            archived_at=api.scenario.clock.now(), archive_sha256="0" * 64))
        uow.commit()
    claim = api.post(f"/api/v1/tasks/{task['id']}/claim", "th-amr.liaison")
    assert claim.status_code == 409 and "已归档" in claim.json()["detail"]
    complete = api.post(f"/api/v1/tasks/{task['id']}/complete", "th-amr.liaison", json={"data": {"decision": "accept"}})
    assert complete.status_code == 409
    designate = api.post(f"/api/v1/complaints/{created['id']}/designate", "fy-amr.supervisor",
                         json={"agency": "lq-amr", "reason": "经营者实际经营地在临泉县"})
    assert designate.status_code == 409 and "已归档" in designate.json()["detail"]
