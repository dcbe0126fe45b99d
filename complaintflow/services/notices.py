"""A signed-in user's in-app notices."""

from __future__ import annotations

from complaintflow.wiring import Product
from engine.errors import NotFound
from notifications.in_app import mark_all_read, mark_read


def mark_notice_read(product: Product, user_id: int, notice_id: int) -> None:
    """Mark one of the user's own notices read (again is fine); another user's is not found."""
    with product.uow() as uow:
        if not mark_read(uow.session, user_id, notice_id, product.clock.now()):
            raise NotFound("notice not found")
        uow.commit()


def mark_all_notices_read(product: Product, user_id: int) -> int:
    """Mark every unread notice of the user read; how many were unread (0 is fine: nothing to do)."""
    with product.uow() as uow:
        marked = mark_all_read(uow.session, user_id, product.clock.now())
        uow.commit()
        return marked
