"""``GET /api/v1/agencies``: the agencies people pick from, in a stable order, on both backends."""

from __future__ import annotations

from tests.api.conftest import Api


def test_agencies_are_the_active_ones_ordered_by_region_then_code(api: Api) -> None:
    listed = api.get("/api/v1/agencies", "th-amr.liaison").json()
    # 341200 (Fuyang city) before 341221 (Linquan) before 341222 (Taihe); by code within a region
    assert [a["code"] for a in listed] == ["fy-amr", "fy-cca", "lq-amr", "th-amr", "th-cca", "th-pmc"]
    assert [a["code"] for a in listed if a["kind"] == "market_regulator"] == ["fy-amr", "lq-amr", "th-amr"]
    taihe = next(a for a in listed if a["code"] == "th-amr")
    assert (taihe["short_name"], taihe["region_code"], taihe["parent_code"]) == ("太市监", "341222", "fy-amr")

    admin = api.headers("admin")
    assert api.client.patch("/api/v1/agencies/lq-amr", headers=admin, json={"active": False}).status_code == 200
    after = [a["code"] for a in api.get("/api/v1/agencies", "th-amr.liaison").json()]
    assert after == ["fy-amr", "fy-cca", "th-amr", "th-cca", "th-pmc"]  # a deactivated agency is not offered
