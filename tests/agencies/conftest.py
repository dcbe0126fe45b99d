"""Argon2 with production parameters costs ~0.2 s per hash on a CI core; seeding 13 demo users
per test would dominate the run. Tests use Argon2id with minimal cost instead — same code
path, same hash format — except tests that ask for ``real_argon2``."""

from __future__ import annotations

import pytest
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from agencies import passwords

_CHEAP = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))


@pytest.fixture
def real_argon2() -> None:
    """Keep the production Argon2 parameters in this test."""


@pytest.fixture(autouse=True)
def fast_password_hashing(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if "real_argon2" not in request.fixturenames:
        monkeypatch.setattr(passwords, "_hasher", lambda: _CHEAP)
