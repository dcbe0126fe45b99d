"""A hostile script that passes validation (its size comes from form data) answers 409 at once, and
the server keeps answering meanwhile: ``sum(range(n))`` used to hold the GIL for seconds in one C call."""

from __future__ import annotations

import threading
import time
from typing import Any

from engine.bpmn.scaffold import Script, UserTask, build
from engine.runner import SYSTEM
from engine.specs import deployed_version
from tests.api.conftest import Api

FORM = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"], "additionalProperties": False}
SUMS_BY_DATA = build("sums_by_data", [
    UserTask("ask", "填写数量", form=FORM), Script("evil", "total = sum(range(n))"), UserTask("next", "下一步"),
], agency="'th-amr'")
LIAISON = "th-amr.liaison"


def test_a_script_sized_by_form_data_answers_409_and_healthz_keeps_answering(api: Api) -> None:
    headers = {**api.headers("admin"), "Content-Type": "application/xml"}
    assert api.client.post("/api/v1/workflows", content=SUMS_BY_DATA.encode(), headers=headers).status_code == 201
    assert api.post("/api/v1/workflows/sums_by_data/versions/1/deploy", "admin").status_code == 200
    product = api.scenario.product
    with product.uow() as uow:
        record, _ = product.runner.start(uow.session, deployed_version(uow.session, "sums_by_data"), {}, SYSTEM)
        uow.commit()
    [task] = [t for t in api.get("/api/v1/tasks", LIAISON).json()["items"] if t["instance_id"] == record.id]
    assert api.post(f"/api/v1/tasks/{task['id']}/claim", LIAISON).status_code == 204

    answer: dict[str, Any] = {}

    def complete() -> None:
        started = time.perf_counter()
        response = api.post(f"/api/v1/tasks/{task['id']}/complete", LIAISON, json={"data": {"n": 10**8}})
        answer.update(status=response.status_code, detail=response.json()["detail"],
                      elapsed=time.perf_counter() - started)

    worker = threading.Thread(target=complete)
    worker.start()
    health: list[tuple[int, float]] = []
    while worker.is_alive() or not health:
        started = time.perf_counter()
        status = api.client.get("/healthz").status_code
        health.append((status, time.perf_counter() - started))
    worker.join()

    assert all(status == 200 for status, _ in health)
    assert max(elapsed for _, elapsed in health) < 0.5, health
    assert answer["elapsed"] < 1.0, answer
    assert answer["status"] == 409, answer
    assert answer["detail"].startswith("evil: ") and "range()" in answer["detail"] and "过大" in answer["detail"]
    still_open = [t for t in api.get("/api/v1/tasks", LIAISON).json()["items"] if t["instance_id"] == record.id]
    assert [t["task_name"] for t in still_open] == ["ask"]  # nothing was stored

    ordinary = api.post(f"/api/v1/tasks/{task['id']}/complete", LIAISON, json={"data": {"n": 100}})
    assert ordinary.status_code == 200, ordinary.text
