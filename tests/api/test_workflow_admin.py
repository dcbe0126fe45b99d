"""Admins change workflows by API: upload, validate, diff, deploy, migrate, roll back; hostile files bounce."""

from __future__ import annotations

import time
from typing import Any

import pytest

from engine.bpmn.scaffold import Script, UserTask, build
from tests.api.conftest import Api
from tests.engine.test_foreign_and_hostile_files import HOSTILE

V1 = build("fee_refund", [UserTask("check", "核对"), UserTask("pay", "退费")], agency="'th-amr'")
V2 = build("fee_refund", [UserTask("check", "核对"), UserTask("pay", "退费并告知")], agency="'th-amr'")
V3_DROPS_CHECK = build("fee_refund", [UserTask("pay", "退费")], agency="'th-amr'")


def upload(api: Api, xml: str | bytes, user: str = "admin") -> Any:
    return api.client.post("/api/v1/workflows", content=xml if isinstance(xml, bytes) else xml.encode(),
                           headers={**api.headers(user), "Content-Type": "application/xml"})


def start_instance(api: Api) -> int:
    """Start an instance of the deployed fee_refund spec (an engine-level start: no complaint needed)."""
    from engine.runner import SYSTEM
    from engine.specs import deployed_version

    product = api.scenario.product
    with product.uow() as uow:
        record, _ = product.runner.start(uow.session, deployed_version(uow.session, "fee_refund"), {}, SYSTEM)
        uow.commit()
        return record.id


def test_versions_diff_deploy_migrate_and_roll_back(api: Api) -> None:
    assert upload(api, V1).json()["version"] == 1
    assert api.post("/api/v1/workflows/fee_refund/versions/1/deploy", "admin").status_code == 200
    old = start_instance(api)
    assert upload(api, V2).json()["version"] == 2
    assert upload(api, V2).json()["version"] == 2  # same content, same version
    diff = api.get("/api/v1/workflows/fee_refund/diff", "admin", params={"from": 1, "to": 2}).json()
    assert diff["changed"] == [{"id": "pay", "name": "退费并告知", "changes": {"name": {"before": "退费",
                                                                                     "after": "退费并告知"}}}]
    api.post("/api/v1/workflows/fee_refund/versions/2/deploy", "admin")
    new = start_instance(api)
    instances = {i: api.get(f"/api/v1/process-instances/{i}", "admin").json()["spec_version"] for i in (old, new)}
    assert instances == {old: 1, new: 2}  # running instances keep their version

    dry = api.post("/api/v1/workflows/fee_refund/migrations", "admin",
                   json={"from_version": 1, "to_version": 2}).json()
    assert dry == [{"instance_id": old, "safe": True, "applied": False, "reasons": [], "changed_steps": ["pay"]}]
    applied = api.post("/api/v1/workflows/fee_refund/migrations", "admin",
                       json={"from_version": 1, "to_version": 2, "dry_run": False}).json()
    assert applied[0]["applied"] is True
    assert api.get(f"/api/v1/process-instances/{old}", "admin").json()["spec_version"] == 2

    assert upload(api, V3_DROPS_CHECK).json()["version"] == 3
    unsafe = api.post("/api/v1/workflows/fee_refund/migrations", "admin",
                      json={"from_version": 2, "to_version": 3}).json()
    assert all(not r["safe"] and any("check" in reason for reason in r["reasons"]) for r in unsafe)

    rolled_back = api.post("/api/v1/workflows/fee_refund/versions/1/deploy", "admin").json()  # roll back
    assert rolled_back["version"] == 1 and rolled_back["deployed"] is True
    listing = {(w["version"], w["deployed"]) for w in api.get("/api/v1/workflows", "admin").json()
               if w["key"] == "fee_refund"}
    assert listing == {(1, True), (2, False), (3, False)}


def test_validation_names_elements_and_nothing_of_a_rejected_file_is_stored(api: Api) -> None:
    broken = build("broken", [Script("calc", "x = (1 +"), UserTask("t", lane="clerk")], agency="'th-amr'")
    result = api.client.post("/api/v1/workflows/validate", content=broken.encode(),
                             headers={**api.headers("admin"), "Content-Type": "application/xml"}).json()
    assert result["valid"] is False
    assert {e["element_id"] for e in result["errors"]} == {"calc", "t"}
    before = len(api.get("/api/v1/workflows", "admin").json())
    assert upload(api, broken).status_code == 400
    assert len(api.get("/api/v1/workflows", "admin").json()) == before


@pytest.mark.parametrize("name", ["xxe", "billion_laughs", "deep_nesting", "sandbox_escape", "not_xml"])
def test_hostile_uploads_are_refused_quickly(api: Api, name: str) -> None:
    started = time.perf_counter()
    response = upload(api, HOSTILE[name])
    assert response.status_code == 400 and time.perf_counter() - started < 2
    assert "root:" not in response.text
    assert api.get("/healthz", None).status_code == 200


def test_a_fifty_megabyte_upload_is_refused_before_it_is_read(api: Api) -> None:
    response = upload(api, HOSTILE["fifty_megabytes"])
    assert response.status_code == 413


def test_rules_and_calendar_years_are_admin_only_and_audited(api: Api) -> None:
    body = {"name": "acceptance", "period": "5wd", "valid_from": "2027-01-01", "source": "假设的新规"}
    assert api.post("/api/v1/deadline-rules", "th-amr.supervisor", json=body).status_code == 403
    assert api.post("/api/v1/deadline-rules", "admin", json=body).json()[-1] == {"period": "5wd",
                                                                                "valid": "[2027-01-01, …)"}
    year = {"holidays": ["2027-01-01", "2027-01-04"], "workdays": ["2027-01-09"]}
    assert api.client.put("/api/v1/calendar/years/2027", json=year, headers=api.headers("th-amr.liaison")
                          ).status_code == 403
    assert api.client.put("/api/v1/calendar/years/2027", json=year, headers=api.headers("admin")).json()["year"] == 2027
    due = api.get("/api/v1/calendar/due", "admin", params={"start": "2026-12-28T10:00:00+08:00",
                                                            "period": "7wd"}).json()
    assert (due["due_at"], due["provisional"]) == ("2027-01-08T23:59:59+08:00", False)


def test_files_from_other_modelers_get_a_verdict_never_a_500(api: Api) -> None:
    from pathlib import Path

    folder = Path(__file__).resolve().parents[1] / "engine" / "foreign"
    for path in sorted(folder.glob("*.bpmn")):
        response = api.client.post("/api/v1/workflows/validate", content=path.read_bytes(),
                                   headers={**api.headers("admin"), "Content-Type": "application/xml"})
        assert response.status_code == 200, (path.name, response.text)
        verdict = response.json()
        assert verdict["valid"] is False and verdict["errors"], path.name
        assert upload(api, path.read_bytes()).status_code == 400


def test_admins_manage_agencies_and_users(api: Api) -> None:
    agency = {"code": "jq-amr", "name": "界首市市场监督管理局", "short_name": "界市监", "kind": "market_regulator",
              "region_code": "341282", "parent": "fy-amr"}
    assert api.post("/api/v1/agencies", "th-amr.supervisor", json=agency).status_code == 403
    assert api.post("/api/v1/agencies", "admin", json=agency).status_code == 201
    assert api.post("/api/v1/agencies", "admin", json=agency).status_code == 409
    assert api.post("/api/v1/agencies", "admin", json={**agency, "code": "x-amr", "region_code": "349999"}
                    ).json()["detail"][0]["field"] == "region_code"
    user = {"username": "jq-amr.liaison", "display_name": "界首联络员", "password": "Huaihe-Demo-2026!",
            "agency": "jq-amr", "roles": ["liaison", "enforcement"], "email": "jq@example.cn"}
    assert api.post("/api/v1/users", "admin", json=user).json()["agency"] == "jq-amr"
    assert api.post("/api/v1/users", "admin", json={**user, "username": "nobody", "agency": None}
                    ).json()["detail"][0]["field"] == "roles"
    assert api.get("/api/v1/me", "jq-amr.liaison").json()["roles"] == ["liaison", "enforcement"]
    # a public complaint about a business in 界首 is now routed to the new regulator
    assert api.client.post("/api/v1/public/complaints", json={
        **__import__("tests.workflows.scenario", fromlist=["complaint_body"]).complaint_body(),
        "business": {"name": "界首某商店", "region_code": "341282"}}).status_code == 201
    assert [t["task_name"] for t in api.get("/api/v1/tasks", "jq-amr.liaison").json()["items"]] == ["review"]
    disabled = api.client.patch("/api/v1/users/jq-amr.liaison", json={"active": False},
                                headers=api.headers("admin"))
    assert disabled.json()["active"] is False
    assert api.client.get("/api/v1/me", headers=api.headers("jq-amr.liaison")).status_code == 401
    assert api.client.patch("/api/v1/agencies/jq-amr", json={"name": "界首市市场监管局"},
                            headers=api.headers("admin")).json()["name"] == "界首市市场监管局"
