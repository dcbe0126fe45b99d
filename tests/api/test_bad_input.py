"""Bad input gets a clear 4xx naming the field, and the database is left exactly as it was."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from agencies.tables import Complaint
from engine.db.tables import AuditEvent, OpenTask, ProcessInstance
from tests.agencies.factories import SHOP_USCC, wrong_check_digit
from tests.api.conftest import Api
from tests.workflows.scenario import ID_NUMBER, complaint_body


def counts(api: Api) -> tuple[int, ...]:
    with api.scenario.product.uow() as uow:
        return tuple(uow.session.scalar(select(func.count()).select_from(t))
                     for t in (Complaint, ProcessInstance, OpenTask, AuditEvent))


BAD_BODIES: dict[str, tuple[dict[str, Any], str]] = {
    "wrong type": ({"amount": ["many"]}, "amount"),
    "missing subject": ({"subject": None}, "subject"),
    "unknown kind": ({"kind": "praise"}, "kind"),
    "future receipt": ({"received_at": "2027-06-01T09:00:00+08:00"}, "received_at"),
    "naive receipt": ({"received_at": "2026-11-01T09:00:00"}, "received_at"),
    "future occurrence": ({"occurred_on": "2027-01-01"}, "occurred_on"),
    "bad id checksum": ({"complainant": {"name": "张三", "phone": "13812345678",
                                        "id_number": wrong_check_digit(ID_NUMBER)}}, "complainant.id_number"),
    "bad credit code": ({"business": {"name": "某店", "region_code": "341222", "uscc": wrong_check_digit(SHOP_USCC)}},
                        "business.uscc"),
    "unknown region": ({"business": {"name": "某店", "region_code": "349999"}}, "business.region_code"),
    "bad phone": ({"complainant": {"name": "张三", "phone": "12345", "id_number": ID_NUMBER}}, "complainant.phone"),
    "three decimals": ({"amount": "1.005"}, "amount"),
    "negative amount": ({"amount": "-1"}, "amount"),
    "extra field": ({"colour": "red"}, "colour"),
    "unknown agency": ({"received_by": "zz-amr"}, "received_by"),
}


@pytest.mark.parametrize("case", BAD_BODIES, ids=list(BAD_BODIES))
def test_a_bad_complaint_names_the_field_and_stores_nothing(api: Api, case: str) -> None:
    changes, field = BAD_BODIES[case]
    body = {k: v for k, v in {**complaint_body(), **changes}.items() if v is not None}
    before = counts(api)
    response = api.post("/api/v1/complaints", "th-amr.liaison", json=body)
    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["detail"]], response.json()
    assert counts(api) == before


def test_malformed_json_and_oversize_bodies(api: Api) -> None:
    before = counts(api)
    malformed = api.post("/api/v1/complaints", "th-amr.liaison", content=b'{"kind": "complaint",',
                         headers={"Content-Type": "application/json"})
    assert malformed.status_code == 422 and malformed.json()["detail"][0]["field"] == "body"
    huge = api.client.post("/api/v1/complaints", content=b'{"description": "' + b"x" * (2 * 1024 * 1024) + b'"}',
                           headers={**api.headers("th-amr.liaison"), "Content-Type": "application/json"})
    assert huge.status_code == 413 and huge.json()["detail"][0]["field"] == "body"
    assert counts(api) == before


def test_bad_form_data_names_the_field_and_leaves_the_task_open(api: Api) -> None:
    cid = api.submit()["id"]
    task = api.task("th-amr.liaison", "review", cid)
    before = counts(api)
    for data, field in [({"decision": "maybe"}, "data.decision"), ({"decision": "reject"}, "data.reason"),
                        ({"decision": "transfer", "reason": "x", "transfer_to": "no-such"}, "data.transfer_to")]:
        response = api.post(f"/api/v1/tasks/{task['id']}/complete", "th-amr.liaison", json={"data": data})
        assert response.status_code == 422 and field in [e["field"] for e in response.json()["detail"]], response.text
    assert api.post(f"/api/v1/tasks/{task['id']}/complete", "th-amr.liaison", json={"dat": {}}).status_code == 422
    assert counts(api) == before


def test_query_parameters_are_checked(api: Api) -> None:
    for path, field in [("/api/v1/tasks?limit=0", "limit"), ("/api/v1/tasks?assignee=everyone", "assignee"),
                        ("/api/v1/calendar/due?start=2026-11-18T10:00:00%2B08:00&period=7days", "period"),
                        ("/api/v1/calendar/due?start=yesterday&period=7wd", "start")]:
        response = api.get(path, "th-amr.liaison")
        assert response.status_code == 422 and response.json()["detail"][0]["field"] == field, response.text


def test_an_unexpected_error_is_a_500_with_a_request_id_and_no_trace(api: Api,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from complaintflow.services import complaints as intake

    def explode(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("SELECT secret FROM users")

    from fastapi.testclient import TestClient

    monkeypatch.setattr(intake, "submit", explode)
    client = TestClient(api.client.app, raise_server_exceptions=False)  # answer as a real server would
    response = client.post("/api/v1/complaints", json=complaint_body(),
                           headers={**api.headers("th-amr.liaison"), "X-Request-ID": "req-42"})
    assert response.status_code == 500
    assert response.json() == {"detail": "服务器内部错误 / internal error", "request_id": "req-42"}
    assert "SELECT" not in response.text
