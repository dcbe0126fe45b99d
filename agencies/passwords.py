"""Staff passwords, hashed with Argon2id (DESIGN §7) through pwdlib's recommended settings."""

from __future__ import annotations

import secrets
import threading
from functools import cache

from pwdlib import PasswordHash
from pwdlib.exceptions import UnknownHashError

# Argon2 uses 64 MiB per hash by design; a burst of logins must not multiply that without bound
# (twenty at once would take a server past 1 GB). Two at a time keeps logins quick and memory flat.
_HASHING = threading.BoundedSemaphore(2)


@cache
def _hasher() -> PasswordHash:
    return PasswordHash.recommended()


def hash_password(password: str) -> str:
    """An Argon2id hash (``$argon2id$…``) with a random salt."""
    if not password:
        raise ValueError("an empty password cannot be set")
    with _HASHING:
        return _hasher().hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    """Whether ``password`` matches; a malformed or foreign hash is simply no match."""
    try:
        with _HASHING:
            return _hasher().verify(password, password_hash)
    except UnknownHashError:
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether a hash was made with another scheme or weaker parameters (re-hash at next login)."""
    current = _hasher().current_hasher
    return not current.identify(password_hash) or current.check_needs_rehash(password_hash)


@cache
def dummy_hash() -> str:
    """A hash to verify against when the user does not exist, so that a login for an unknown
    username takes as long as one with a wrong password (no username probing by timing)."""
    return hash_password(secrets.token_urlsafe(16))


def random_password() -> str:
    """A random initial password (≈ 96 bits), printed once for the user to change."""
    return secrets.token_urlsafe(12)
