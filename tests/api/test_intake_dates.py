"""Every date the complaint API takes answers nonsense with a 422 naming the field, never a 500 (year
0001 used to overflow on intake and in the list filter) and never an acceptance (1899 was stored, its
acceptance review overdue since 1900)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import Api
from tests.workflows.scenario import complaint_body


def fields(response: Any) -> dict[str, str]:
    assert response.status_code == 422, response.text
    return {e["field"]: e["message"] for e in response.json()["detail"]}


@pytest.mark.parametrize("received_at", ["1899-03-01T09:00:00+08:00", "0001-01-01T00:00:00+08:00",
                                         "2026-11-18T09:00:00+08:00"])
def test_the_public_form_cannot_set_received_at(api: Api, received_at: str) -> None:
    response = api.client.post("/api/v1/public/complaints", json=complaint_body(received_at=received_at))
    assert fields(response).keys() == {"received_at"}
    assert "公众提交的投诉不能指定接收时间" in fields(response)["received_at"]
    received = api.client.post("/api/v1/public/complaints", json=complaint_body())
    assert received.status_code == 201, received.text
    assert api.scenario.complaint(received.json()["id"]).received_at == api.scenario.clock.now()


@pytest.mark.parametrize(("override", "field"), [
    ({"received_at": "0001-01-01T00:00:00+08:00"}, "received_at"),
    ({"received_at": "0001-01-01T00:00:00Z"}, "received_at"),
    ({"received_at": "1899-03-01T09:00:00+08:00"}, "received_at"),
    ({"received_at": "9999-12-31T23:59:59-12:00"}, "received_at"),
    ({"occurred_on": "0001-01-01"}, "occurred_on"),
    ({"occurred_on": "1899-03-01"}, "occurred_on"),
])
def test_staff_intake_refuses_nonsense_dates(api: Api, override: dict[str, str], field: str) -> None:
    response = api.post("/api/v1/complaints", "th-amr.liaison", json=complaint_body(**override))
    assert fields(response).keys() == {field}


def test_staff_may_date_a_complaint_received_last_year(api: Api) -> None:
    submitted = api.submit(received_at="2025-12-01T10:00:00+08:00", occurred_on="2025-11-20")
    assert api.scenario.complaint(submitted["id"]).received_at.isoformat() == "2025-12-01T10:00:00+08:00"


@pytest.mark.parametrize(("param", "value"), [
    ("received_from", "0001-01-01"), ("received_to", "0001-01-01"), ("received_from", "9999-12-31"),
    ("received_to", "9999-12-31"), ("received_from", "1949-09-30"), ("received_to", "2101-01-01"),
])
def test_list_filters_outside_the_range_are_refused(api: Api, param: str, value: str) -> None:
    response = api.get("/api/v1/complaints", "th-amr.liaison", params={param: value})
    assert fields(response) == {param: "日期须在 1949-10-01 至 2100-12-31 之间 (date must lie between 1949-10-01 "
                                       "and 2100-12-31)"}


def test_list_filters_inside_the_range_still_filter(api: Api) -> None:
    submitted = api.submit()
    found = api.get("/api/v1/complaints", "th-amr.liaison",
                    params={"received_from": "1949-10-01", "received_to": "2100-12-31"})
    assert found.status_code == 200 and [c["id"] for c in found.json()["items"]] == [submitted["id"]]
    later = api.get("/api/v1/complaints", "th-amr.liaison", params={"received_from": "2026-11-19"})
    assert later.status_code == 200 and later.json()["items"] == []
