"""Bearer tokens (signed JWTs), revocation and login rate limiting.

Tokens are HS256 JWTs signed with ``COMPLAINTFLOW_SECRET_KEY``, valid for ``TOKEN_MINUTES``; each
carries a ``jti`` that logout revokes. Failed logins are limited per username and client address in
this process's memory (with several server processes each keeps its own count — an attacker gets at
most N× the attempts; a shared store would close that).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

import jwt

TOKEN_MINUTES = 8 * 60  # one working day
ALGORITHM = "HS256"


@dataclass(frozen=True)
class TokenClaims:
    username: str
    jti: str
    expires_at: datetime


def issue_token(username: str, secret: str, now: datetime) -> tuple[str, TokenClaims]:
    claims = TokenClaims(username, secrets.token_hex(16), now + timedelta(minutes=TOKEN_MINUTES))
    token = jwt.encode({"sub": username, "jti": claims.jti, "iat": int(now.timestamp()),
                        "exp": int(claims.expires_at.timestamp())}, secret, algorithm=ALGORITHM)
    return token, claims


def read_token(token: str, secret: str, now: datetime) -> TokenClaims | None:
    """The claims of a valid, unexpired token (checked against the product clock), else ``None``."""
    signed = _verified(token, secret)
    if signed is None:
        return None
    username, jti, expires = signed
    expires_at = datetime.fromtimestamp(expires, tz=now.tzinfo)
    if expires_at <= now:
        return None
    return TokenClaims(username, jti, expires_at)


@lru_cache(maxsize=4096)
def _verified(token: str, secret: str) -> tuple[str, str, int] | None:
    """(sub, jti, exp) of a token whose signature checks out. Remembered: a client sends the same token
    with every request, and verifying it cost more than the database look-up that follows."""
    try:
        payload = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"verify_exp": False, "verify_iat": False,
                                                                              "require": ["sub", "jti", "exp"]})
    except jwt.PyJWTError:
        return None
    return str(payload["sub"]), str(payload["jti"]), int(payload["exp"])


class RateLimiter:
    """At most ``limit`` events per key within ``window`` seconds (a sliding window, in memory)."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._events: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def blocked(self, key: str) -> bool:
        with self._lock:
            events = self._events[key]
            cutoff = time.monotonic() - self.window
            while events and events[0] < cutoff:
                events.popleft()
            return len(events) >= self.limit

    def hit(self, key: str) -> None:
        with self._lock:
            self._events[key].append(time.monotonic())

    def reset(self, key: str) -> None:
        with self._lock:
            self._events.pop(key, None)
