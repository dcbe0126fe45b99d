"""Tracking numbers and secret tracking codes for complainants.

``tracking_no`` — ``TS`` + the receipt date (yyyymmdd, Asia/Shanghai) + 7 random digits + a Luhn
check digit, e.g. ``TS2026050638027415``. Digits only, so it reads out over the phone; random, so
numbers say nothing about volume and cannot be walked; the check digit catches typos before any
database lookup.

``tracking_code`` — 8 characters from an alphabet without look-alikes (no 0/O, 1/I/L, U), drawn
with ``secrets``: 30⁸ ≈ 6.6 × 10¹¹ (≈ 39 bits). Only a hash is stored.

Why HMAC-SHA256 and not Argon2: the code is random, not a human-chosen password, so a slow hash
adds little; what matters is that a copy of the database alone does not allow checking guesses
offline (39 bits is within reach of a GPU against a plain or salted SHA-256). A keyed
HMAC-SHA256 — key derived from ``COMPLAINTFLOW_SECRET_KEY`` — gives exactly that, costs
microseconds on a public, unauthenticated endpoint (Argon2's ~50 ms and 64 MiB per check would be
a denial-of-service lever there), and binding the tracking number into the message stops a hash
from being copied to another row. Online guessing is left to the public endpoint's rate limit.
Rotating the secret key invalidates outstanding codes; the ``v1$`` prefix leaves room for that.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime

from stdnum import luhn

from engine.clock import SHANGHAI, ensure_aware

TRACKING_PREFIX = "TS"
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 8
_HASH_SCHEME = "v1"
_TRACKING_NO_RE = re.compile(rf"^{TRACKING_PREFIX}\d{{16}}$")
_CODE_SEPARATORS_RE = re.compile(r"[\s-]")


def new_tracking_no(received_at: datetime) -> str:
    """A fresh random tracking number for a complaint received at ``received_at``.

    Uniqueness is the caller's job (``register_complaint`` retries on a clash; 10⁷ numbers a
    day make a clash rare)."""
    day = ensure_aware(received_at).astimezone(SHANGHAI).strftime("%Y%m%d")
    body = f"{day}{secrets.randbelow(10**7):07d}"
    return f"{TRACKING_PREFIX}{body}{luhn.calc_check_digit(body)}"


def normalize_tracking_no(value: str) -> str | None:
    """Upper-case, without spaces; ``None`` if it cannot be a tracking number (typo caught)."""
    candidate = _CODE_SEPARATORS_RE.sub("", value).upper()
    if not _TRACKING_NO_RE.match(candidate) or not luhn.is_valid(candidate[len(TRACKING_PREFIX) :]):
        return None
    return candidate


def new_tracking_code() -> str:
    """A fresh secret code, shown to the complainant once."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_tracking_code(value: str) -> str:
    """As typed by a person: case, spaces and hyphens do not matter."""
    return _CODE_SEPARATORS_RE.sub("", value).upper()


def derive_tracking_key(secret_key: str | bytes) -> bytes:
    """A key used only for tracking codes, derived from the application secret."""
    secret = secret_key.encode() if isinstance(secret_key, str) else secret_key
    return hmac.new(secret, b"complaintflow/tracking-code/v1", hashlib.sha256).digest()


def hash_tracking_code(tracking_no: str, code: str, key: bytes) -> str:
    """``v1$<hex HMAC-SHA256(key, tracking_no ":" code)>``."""
    message = f"{tracking_no}:{normalize_tracking_code(code)}".encode()
    return f"{_HASH_SCHEME}${hmac.new(key, message, hashlib.sha256).hexdigest()}"


def verify_tracking_code(tracking_no: str, code: str, stored_hash: str, key: bytes) -> bool:
    """Constant-time comparison of a typed code against the stored hash."""
    return hmac.compare_digest(hash_tracking_code(tracking_no, code, key), stored_hash)
