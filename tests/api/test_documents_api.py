"""The documents over HTTP: the involved agencies' list and PDFs, the complainant's with their code."""

from __future__ import annotations

from urllib.parse import quote

from tests.api.conftest import Api

REJECT = {"decision": "reject", "reason": "不属于本部门职责范围", "ground": "not_competent", "violation_found": False}


def rejected(api: Api) -> dict[str, object]:
    created = api.submit()
    api.act("th-amr.liaison", "review", int(str(created["id"])), REJECT)
    return created


def test_the_involved_agency_lists_and_downloads_the_complainants_with_their_code(api: Api) -> None:
    created = rejected(api)
    complaint_id, code = created["id"], created["tracking_code"]
    listed = api.get(f"/api/v1/complaints/{complaint_id}/documents", "th-amr.liaison")
    assert listed.status_code == 200, listed.text
    [document] = listed.json()
    assert (document["kind"], document["title"], document["doc_no"]) == (
        "rejection_notice", "不予受理告知书", "太市监不受〔2026〕1号")
    assert document["created_at"].startswith("2026-11-18T")
    staff = api.get(f"/api/v1/documents/{document['id']}.pdf", "th-amr.liaison")
    assert staff.status_code == 200 and staff.headers["content-type"] == "application/pdf"
    assert staff.content.startswith(b"%PDF")
    assert f"filename*=UTF-8''{quote('不予受理告知书.pdf')}" in staff.headers["content-disposition"]
    public = api.get(f"/api/v1/documents/{document['id']}.pdf", None, params={"code": code})
    assert public.status_code == 200 and public.content == staff.content


def test_other_agencies_wrong_codes_and_strangers_get_404_or_401(api: Api) -> None:
    created = rejected(api)
    other = api.submit()  # another complaint, its own code
    document_id = api.get(f"/api/v1/complaints/{created['id']}/documents", "th-amr.liaison").json()[0]["id"]
    assert api.get(f"/api/v1/complaints/{created['id']}/documents", "lq-amr.liaison").status_code == 404
    assert api.get(f"/api/v1/documents/{document_id}.pdf", "lq-amr.liaison").status_code == 404
    assert api.get(f"/api/v1/documents/{document_id}.pdf", None, params={"code": "WRONGCODE"}).status_code == 404
    assert api.get(f"/api/v1/documents/{document_id}.pdf", None,
                   params={"code": other["tracking_code"]}).status_code == 404  # not their document
    assert api.get(f"/api/v1/documents/{document_id + 1000}.pdf", None,
                   params={"code": created["tracking_code"]}).status_code == 404
    assert api.get(f"/api/v1/documents/{document_id}.pdf", None).status_code == 401
    assert api.get(f"/api/v1/complaints/{other['id']}/documents", "th-amr.liaison").json() == []
