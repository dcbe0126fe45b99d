"""How requests use database connections: one round trip for the signed-in user, none held while a
password hashes, a connection the server dropped answered with 503 and replaced."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, event, text

from tests.api.conftest import PASSWORD, Api
from tests.workflows.scenario import complaint_body
from web import deps


def test_staff_submission_lists_the_tasks_it_opened(api: Api) -> None:
    submitted = api.submit()
    [review] = submitted["next_tasks"]
    assert review["task_name"] == "review" and review["agency_code"] == "th-amr"
    assert review == {k: v for k, v in api.task("th-amr.liaison", "review", submitted["id"]).items() if k in review}
    public = api.client.post("/api/v1/public/complaints", json=complaint_body())
    assert public.status_code == 201 and "next_tasks" not in public.json()  # no task ids for the public


def test_an_authenticated_request_reads_the_user_in_one_statement(api: Api) -> None:
    api.headers("th-amr.liaison")  # sign in first
    statements: list[str] = []
    engine = api.scenario.product.engine
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        assert api.get("/api/v1/me", "th-amr.liaison").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert len([s for s in statements if "FROM users" in s]) == 1
    assert not any("revoked_tokens" in s and "FROM users" not in s for s in statements)


def test_logins_hash_without_holding_a_connection(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """While Argon2 runs no pooled connection is checked out, so a burst of logins cannot starve other
    requests of connections (it did: thirty logins waiting for the hasher held all thirty)."""
    pool = api.scenario.product.engine.pool
    held: list[int] = []
    check = deps.check_password  # the API's and the pages' sign-in

    def observed(user: object, password: str) -> object:
        held.append(pool.checkedout())
        return check(user, password)

    monkeypatch.setattr(deps, "check_password", observed)
    for password in (PASSWORD, "wrong-password", PASSWORD):
        response = api.client.post("/api/v1/auth/token", data={"username": "th-amr.liaison", "password": password})
        assert response.status_code == (200 if password == PASSWORD else 401)
    assert held == [0, 0, 0]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # terminating backends is PostgreSQL's
def test_a_dropped_connection_answers_503_then_the_pool_recovers(api: Api, database_url: str) -> None:
    assert api.get("/api/v1/me", "th-amr.liaison").status_code == 200
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:  # what a server restart or an idle timeout does to pooled connections
        dropped = conn.execute(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                    "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar()
    admin.dispose()
    assert dropped >= 1
    lost = api.get("/api/v1/me", "th-amr.liaison")
    assert lost.status_code == 503 and lost.headers["Retry-After"] == "1"
    assert "retry" in lost.json()["detail"]
    assert api.get("/api/v1/me", "th-amr.liaison").status_code == 200
    assert api.get("/api/v1/tasks", "th-amr.liaison").status_code == 200
