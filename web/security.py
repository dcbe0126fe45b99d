"""Bearer tokens: signed JWTs that logout, deactivation and password changes end.

Tokens are HS256 JWTs signed with the product's secret key, valid for ``TOKEN_MINUTES``. Each
carries a ``jti`` that logout revokes, and the user's session epoch at issue (``ep``): deactivating
the user or their agency, or changing the password, moves the epoch on, so every older token stops
working at once.
"""

from __future__ import annotations

import secrets
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
    epoch: int


def issue_token(username: str, epoch: int, secret: str, now: datetime) -> tuple[str, TokenClaims]:
    claims = TokenClaims(username, secrets.token_hex(16), now + timedelta(minutes=TOKEN_MINUTES), epoch)
    token = jwt.encode({"sub": username, "jti": claims.jti, "ep": epoch, "iat": int(now.timestamp()),
                        "exp": int(claims.expires_at.timestamp())}, secret, algorithm=ALGORITHM)
    return token, claims


def read_token(token: str, secret: str, now: datetime) -> TokenClaims | None:
    """The claims of a valid, unexpired token (checked against the product clock), else ``None``."""
    signed = _verified(token, secret)
    if signed is None:
        return None
    username, jti, expires, epoch = signed
    expires_at = datetime.fromtimestamp(expires, tz=now.tzinfo)
    if expires_at <= now:
        return None
    return TokenClaims(username, jti, expires_at, epoch)


@lru_cache(maxsize=4096)
def _verified(token: str, secret: str) -> tuple[str, str, int, int] | None:
    """(sub, jti, exp, ep) of a token whose signature checks out. Remembered: a client sends the same
    token with every request, and verifying it cost more than the database look-up that follows."""
    try:
        payload = jwt.decode(token, secret, algorithms=[ALGORITHM], options={
            "verify_exp": False, "verify_iat": False, "require": ["sub", "jti", "exp", "ep"]})
        return str(payload["sub"]), str(payload["jti"]), int(payload["exp"]), int(payload["ep"])
    except (jwt.PyJWTError, TypeError, ValueError):
        return None
