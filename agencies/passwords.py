"""Staff passwords: the policy a new password must meet, and Argon2id hashing through pwdlib's
recommended settings."""

from __future__ import annotations

import secrets
import threading
from functools import cache, lru_cache

from pwdlib import PasswordHash
from pwdlib.exceptions import UnknownHashError
from zxcvbn import zxcvbn

MIN_LENGTH = 12
MAX_LENGTH = 200
# zxcvbn's score 3: more than 10^8 guesses. Below it are the passwords an attacker tries first:
# common passwords (its list of 30,000), words, names, dates, keyboard walks, repeats, sequences.
MIN_STRENGTH = 3

# Argon2 uses 64 MiB per hash by design; a burst of logins must not multiply that without bound
# (twenty at once would take a server past 1 GB). Two at a time keeps logins quick and memory flat.
_HASHING = threading.BoundedSemaphore(2)


@cache
def _hasher() -> PasswordHash:
    return PasswordHash.recommended()


@lru_cache(maxsize=1024)
def password_problem(password: str, username: str, display_name: str = "") -> str | None:
    """Why ``password`` may not be set for this user (a sentence in Chinese), or ``None`` if it may.

    At least ``MIN_LENGTH`` characters, not containing the username, and not easily guessed — which
    also refuses the well-known common passwords. Remembered: seeding gives many users one password."""
    if len(password) < MIN_LENGTH:
        return f"密码至少需要 {MIN_LENGTH} 个字符"
    if len(password) > MAX_LENGTH:
        return f"密码不能超过 {MAX_LENGTH} 个字符"
    if username and username.lower() in password.lower():
        return "密码不能包含用户名"
    inputs = [part for part in (username, display_name, *username.replace("-", ".").split(".")) if part]
    # zxcvbn refuses to look past 72 characters; a guessable start is what an attacker tries anyway
    if zxcvbn(password[:72], user_inputs=inputs)["score"] < MIN_STRENGTH:
        return "密码过于简单或常见（如连续、重复的字符，常用密码、单词或日期），请换一个更难猜的密码"
    return None


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


def random_password(username: str = "") -> str:
    """A random initial password (≈ 96 bits), printed once for the user to change; drawn again in the
    rare case that chance produced something the policy calls guessable."""
    while True:
        candidate = secrets.token_urlsafe(12)
        if password_problem(candidate, username) is None:
            return candidate
