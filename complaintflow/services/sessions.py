"""Signing in and out: the user a password is checked against, counting failed attempts, logout.

The password itself is checked by the caller between ``user_to_check`` and ``count_login_attempt``
(Argon2 is slow: the web layer hashes holding no database connection).
"""

from __future__ import annotations

from datetime import datetime

from agencies.repository import get_user
from agencies.tables import Agency, User
from complaintflow import rate_limits
from complaintflow.tables import RevokedToken
from complaintflow.wiring import Product


class TooManyAttempts(Exception):
    """Failed sign-ins from this address, or for this account from it, have used up their limit."""


def user_to_check(product: Product, username: str, address: str) -> User | None:
    """The user to check the password against; ``TooManyAttempts`` before any hashing while a limit is
    used up, and ``None`` for a user whose agency is deactivated (which looks like a wrong password)."""
    now = product.clock.now()
    with product.reader() as uow:
        if rate_limits.exceeded(uow.session, rate_limits.LOGIN_PER_ADDRESS, address, now) or rate_limits.exceeded(
                uow.session, rate_limits.LOGIN_PER_ACCOUNT, _account(username, address), now):
            raise TooManyAttempts(username)
        user = get_user(uow.session, username)
        if user is not None and user.agency_id is not None:
            agency = uow.session.get(Agency, user.agency_id)
            if agency is None or not agency.active:
                return None
        return user


def count_login_attempt(product: Product, username: str, address: str, succeeded: bool) -> None:
    """A success forgets the account's failures from this address; a failure counts against both the
    account (from this address) and the address (across usernames)."""
    now = product.clock.now()
    with product.uow() as uow:
        if succeeded:
            rate_limits.clear(uow.session, rate_limits.LOGIN_PER_ACCOUNT, _account(username, address))
        else:
            rate_limits.record(uow.session, rate_limits.LOGIN_PER_ACCOUNT, _account(username, address), now)
            rate_limits.record(uow.session, rate_limits.LOGIN_PER_ADDRESS, address, now)
        uow.commit()


def logout(product: Product, token_id: str, expires_at: datetime) -> None:
    """Refuse the token with this id from now on (signing out twice is fine)."""
    with product.uow() as uow:
        if uow.session.get(RevokedToken, token_id) is None:
            uow.session.add(RevokedToken(jti=token_id, expires_at=expires_at))
        uow.commit()


def _account(username: str, address: str) -> str:
    return f"{username}|{address}"
