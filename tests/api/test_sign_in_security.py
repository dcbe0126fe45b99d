"""Who can sign in, for how long, and how often: the secret key, ending access, rate limits, passwords."""

from __future__ import annotations

import os
import stat
import subprocess
import threading
from datetime import timedelta
from pathlib import Path

import jwt
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from complaintflow import rate_limits
from complaintflow.secret_key import SecretKeyError, key_file, read_or_create, secret_key
from complaintflow.settings import Settings
from tests.api.conftest import PASSWORD, Api
from web.app import create_app

VENV_BIN = Path(__file__).resolve().parents[2] / ".venv" / "bin"
# the constant that signed every token of a default set-up before keys were generated
OLD_SOURCE_CONSTANT = "dev-only-secret-change-me-0123456789abcdef"


# ------------------------------------------------------------------ the secret key

def test_without_a_configured_key_one_is_generated_beside_the_database_and_kept(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'cf.db'}")
    first = secret_key(settings)
    path = key_file(settings)
    assert path == tmp_path / "cf.db.secret-key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) >= 32
    assert secret_key(settings) == first  # the next start reads the same key
    assert secret_key(Settings(database_url=f"sqlite:///{tmp_path / 'other.db'}")) != first


def test_processes_starting_at_once_agree_on_one_key(tmp_path: Path) -> None:
    path = tmp_path / "race.secret-key"
    keys: list[str] = []
    threads = [threading.Thread(target=lambda: keys.append(read_or_create(path))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(keys) == 8 and len(set(keys)) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["race.secret-key"]  # no temporary file left behind


def test_a_key_file_others_can_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "open.secret-key"
    read_or_create(path)
    path.chmod(0o644)
    with pytest.raises(SecretKeyError, match="chmod 600"):
        read_or_create(path)


def test_a_configured_key_shorter_than_32_bytes_is_refused() -> None:
    with pytest.raises(ValidationError, match="32"):
        Settings(complaintflow_secret_key="x" * 31)
    assert Settings(complaintflow_secret_key="x" * 32).complaintflow_secret_key == "x" * 32


def test_production_on_postgresql_needs_a_configured_key() -> None:
    with pytest.raises(SecretKeyError, match="COMPLAINTFLOW_SECRET_KEY"):
        secret_key(Settings(database_url="postgresql://db/x", complaintflow_env="production"))


@pytest.mark.parametrize("command", [["sweep"], ["import", "x.csv"], ["seed", "--demo"], ["serve"]])
def test_every_command_refuses_a_short_key(tmp_path: Path, command: list[str]) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'cf.db'}", "COMPLAINTFLOW_SECRET_KEY": "short"}
    result = subprocess.run([str(VENV_BIN / "complaintflow"), *command], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "COMPLAINTFLOW_SECRET_KEY 至少需要 32 字节" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "cf.db").exists()


def test_a_token_signed_with_any_other_key_is_refused(api: Api) -> None:
    now = api.scenario.clock.now()
    claims = {"sub": "admin", "jti": "x" * 32, "ep": 0, "exp": int((now + timedelta(hours=1)).timestamp())}
    for key in (OLD_SOURCE_CONSTANT, "another-key-of-enough-length-0123456789"):
        forged = jwt.encode(claims, key, algorithm="HS256")
        response = api.client.get("/api/v1/workflows", headers={"Authorization": f"Bearer {forged}"})
        assert response.status_code == 401, key
    genuine = jwt.encode(claims, api.scenario.product.secret_key, algorithm="HS256")
    assert api.client.get("/api/v1/workflows", headers={"Authorization": f"Bearer {genuine}"}).status_code == 200


# ------------------------------------------------------------------ access ends when it should

def _bearer(api: Api, username: str, password: str = PASSWORD) -> dict[str, str]:
    response = api.client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _me(api: Api, headers: dict[str, str]) -> int:
    return int(api.client.get("/api/v1/me", headers=headers).status_code)


def test_a_password_change_ends_the_old_tokens(api: Api) -> None:
    old = _bearer(api, "th-amr.liaison")
    new_password = "Chengguan-Road-77x"
    response = api.client.patch("/api/v1/users/th-amr.liaison", headers=api.headers("admin"),
                                json={"password": new_password})
    assert response.status_code == 200, response.text
    assert _me(api, old) == 401
    assert _me(api, _bearer(api, "th-amr.liaison", new_password)) == 200


def test_a_deactivated_then_reactivated_user_does_not_get_old_tokens_back(api: Api) -> None:
    old = _bearer(api, "th-amr.liaison")
    admin = api.headers("admin")
    assert api.client.patch("/api/v1/users/th-amr.liaison", headers=admin, json={"active": False}).status_code == 200
    assert _me(api, old) == 401
    assert api.client.patch("/api/v1/users/th-amr.liaison", headers=admin, json={"active": True}).status_code == 200
    assert _me(api, old) == 401
    assert _me(api, _bearer(api, "th-amr.liaison")) == 200


def test_a_deactivated_agency_ends_its_users_access_and_logins(api: Api) -> None:
    complaint = api.submit()
    old = _bearer(api, "th-amr.liaison")
    admin = api.headers("admin")
    assert api.client.patch("/api/v1/agencies/th-amr", headers=admin, json={"active": False}).status_code == 200
    assert api.client.get(f"/api/v1/complaints/{complaint['id']}", headers=old).status_code == 401
    login = api.client.post("/api/v1/auth/token", data={"username": "th-amr.liaison", "password": PASSWORD})
    assert login.status_code == 401
    assert api.client.patch("/api/v1/agencies/th-amr", headers=admin, json={"active": True}).status_code == 200
    assert _me(api, old) == 401  # reactivation does not revive old tokens
    assert _me(api, _bearer(api, "th-amr.liaison")) == 200


# ------------------------------------------------------------------ rate limits

def _fail_login(client: TestClient, username: str, headers: dict[str, str] | None = None) -> int:
    response = client.post("/api/v1/auth/token", data={"username": username, "password": "wrong-password-x"},
                           headers=headers or {})
    return int(response.status_code)


def test_failed_logins_are_counted_across_processes_and_restarts(api: Api) -> None:
    """Two applications over one database stand for two server processes, or one before and after a restart."""
    for _ in range(rate_limits.LOGIN_PER_ACCOUNT.events):
        assert _fail_login(api.client, "th-amr.liaison") == 401
    other = create_app(Settings(database_url=api.scenario.database_url), product=api.scenario.product)
    with TestClient(other) as second_process:
        assert _fail_login(second_process, "th-amr.liaison") == 429
        right = second_process.post("/api/v1/auth/token", data={"username": "th-amr.liaison", "password": PASSWORD})
        assert right.status_code == 429  # not even the right password while the limit holds
    api.scenario.clock.set(api.scenario.clock.now() + rate_limits.LOGIN_PER_ACCOUNT.window + timedelta(seconds=1))
    assert _fail_login(api.client, "th-amr.liaison") == 401


def test_one_password_tried_on_many_usernames_is_limited_per_address(api: Api) -> None:
    for n in range(rate_limits.LOGIN_PER_ADDRESS.events):
        assert _fail_login(api.client, f"guess-{n}") == 401
    assert _fail_login(api.client, "th-amr.supervisor") == 429


def test_forwarded_addresses_are_ignored_unless_the_peer_is_a_configured_proxy(api: Api) -> None:
    for n in range(rate_limits.LOGIN_PER_ACCOUNT.events):
        assert _fail_login(api.client, "th-amr.liaison", {"X-Forwarded-For": f"203.0.113.{n}"}) == 401
    # spoofing another address does not reset the count: the header is not believed from this peer
    assert _fail_login(api.client, "th-amr.liaison", {"X-Forwarded-For": "198.51.100.7"}) == 429

    behind_proxy = Settings(database_url=api.scenario.database_url, complaintflow_forwarded_allow_ips="testclient")
    with TestClient(create_app(behind_proxy, product=api.scenario.product)) as proxied:
        # the proxy's peer address is the test client; each forwarded client has its own count
        assert _fail_login(proxied, "th-amr.liaison", {"X-Forwarded-For": "198.51.100.7"}) == 401
        for _ in range(rate_limits.LOGIN_PER_ACCOUNT.events - 1):
            assert _fail_login(proxied, "th-amr.liaison", {"X-Forwarded-For": "198.51.100.7"}) == 401
        assert _fail_login(proxied, "th-amr.liaison", {"X-Forwarded-For": "198.51.100.7"}) == 429
        assert _fail_login(proxied, "th-amr.liaison", {"X-Forwarded-For": "198.51.100.8"}) == 401


def test_public_lookups_are_limited_across_processes(api: Api) -> None:
    complaint = api.submit()
    path = f"/api/v1/public/complaints/{complaint['tracking_no']}"
    for _ in range(rate_limits.PUBLIC_LOOKUP.events):
        assert api.client.get(path, params={"code": complaint["tracking_code"]}).status_code == 200
    with TestClient(create_app(Settings(database_url=api.scenario.database_url),
                               product=api.scenario.product)) as second_process:
        response = second_process.get(path, params={"code": complaint["tracking_code"]})
    assert response.status_code == 429
    assert "频繁" in response.json()["detail"]


# ------------------------------------------------------------------ passwords

@pytest.mark.parametrize(("password", "reason"), [
    ("aaaaaaaaaaaa", "简单"),
    ("1234567890ab", "简单"),
    ("password1234", "简单"),
    ("Short-1x", "至少需要 12"),
    ("zz-new.clerk-2026-Q", "用户名"),
    ("a" * 100, "简单"),
])
def test_weak_passwords_are_refused_naming_the_field(api: Api, password: str, reason: str) -> None:
    response = api.client.post("/api/v1/users", headers=api.headers("admin"), json={
        "username": "new.clerk", "display_name": "新办事员", "password": password, "agency": "th-amr",
        "roles": ["liaison"]})
    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]
    assert error["field"] == "password" and reason in error["message"]
    assert api.client.get("/api/v1/users", headers=api.headers("admin")).json()[-1]["username"] != "new.clerk"


def test_a_weak_password_cannot_replace_a_good_one(api: Api) -> None:
    response = api.client.patch("/api/v1/users/th-amr.liaison", headers=api.headers("admin"),
                                json={"password": "aaaaaaaaaaaa"})
    assert response.status_code == 422
    assert _me(api, _bearer(api, "th-amr.liaison")) == 200  # the old password still works


def test_a_weak_demo_password_is_refused_by_seed(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'cf.db'}", "COMPLAINTFLOW_DEMO_PASSWORD": "a"}
    result = subprocess.run([str(VENV_BIN / "complaintflow"), "seed", "--demo"], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "COMPLAINTFLOW_DEMO_PASSWORD" in result.stderr and "12" in result.stderr
    assert "Traceback" not in result.stderr
