"""The real application over real databases, driven through HTTP (Starlette's TestClient over ASGI)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from complaintflow.settings import Settings
from tests.workflows.scenario import Scenario, complaint_body
from web.app import create_app

PASSWORD = "Huaihe-Demo-2026!"


@dataclass
class Api:
    client: TestClient
    scenario: Scenario
    _tokens: dict[str, str]

    def headers(self, username: str | None) -> dict[str, str]:
        if username is None:
            return {}
        if username not in self._tokens:
            response = self.client.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})
            assert response.status_code == 200, response.text
            self._tokens[username] = response.json()["access_token"]
        return {"Authorization": f"Bearer {self._tokens[username]}"}

    def travel(self, to: datetime) -> None:
        """Move the product clock; tokens expire with time, so sign in again."""
        self.scenario.clock.set(to)
        self._tokens.clear()

    def get(self, path: str, user: str | None, **kwargs: Any) -> Any:
        return self.client.get(path, headers={**self.headers(user), **kwargs.pop("headers", {})}, **kwargs)

    def post(self, path: str, user: str | None, **kwargs: Any) -> Any:
        return self.client.post(path, headers={**self.headers(user), **kwargs.pop("headers", {})}, **kwargs)

    def submit(self, user: str = "th-amr.liaison", **overrides: Any) -> dict[str, Any]:
        response = self.post("/api/v1/complaints", user, json=complaint_body(**overrides))
        assert response.status_code == 201, response.text
        return dict(response.json())

    def task(self, user: str, name: str, complaint_id: int) -> dict[str, Any]:
        items = self.get("/api/v1/tasks", user, params={"complaint_id": complaint_id}).json()["items"]
        [task] = [t for t in items if t["task_name"] == name]
        return dict(task)

    def act(self, user: str, name: str, complaint_id: int, data: dict[str, Any]) -> dict[str, Any]:
        task = self.task(user, name, complaint_id)
        assert self.post(f"/api/v1/tasks/{task['id']}/claim", user).status_code == 204
        response = self.post(f"/api/v1/tasks/{task['id']}/complete", user, json={"data": data})
        assert response.status_code == 200, response.text
        return dict(response.json())


@pytest.fixture
def api(database_url: str) -> Iterator[Api]:
    scenario = Scenario(database_url).seed()
    app = create_app(Settings(database_url=database_url), product=scenario.product)
    with TestClient(app) as client:
        yield Api(client, scenario, {})
