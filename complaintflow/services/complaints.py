"""Registering a complaint: from staff, from the public form, with or without an ``Idempotency-Key``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError

from agencies.businesses import link_complaint
from agencies.submission import Submitted, submit_complaint, validate_submission
from agencies.submission_keys import Render, SubmissionGuard
from complaintflow.services import attachments
from complaintflow.wiring import Product
from engine.runner import Actor

__all__ = ["Replayed", "Submitted", "submit"]


@dataclass(frozen=True)
class Replayed:
    """A repeated ``Idempotency-Key`` with the same body: the first answer, as it was sent."""

    response: dict[str, Any]


def submit(product: Product, payload: dict[str, Any], actor: Actor | None, *, idempotency_key: str | None = None,
           render: Render | None = None, files: Sequence[tuple[str, bytes]] = ()) -> Submitted | Replayed:
    """Register a complaint; ``actor`` ``None`` is the public form (no ``received_at``, and an identical
    complaint within a day is refused). With ``idempotency_key`` the answer, as ``render`` makes it,
    is kept with the complaint and a repeat gets it again (``agencies.submission_keys``). Without a
    key, a staff submission stores nothing extra: the busiest path stays as it was.

    ``files``: evidence as (name, bytes), every one checked before anything is stored (one refused refuses
    the submission: ``InvalidInput`` naming ``files``), then attached in the registration's transaction; a
    replayed submission attaches nothing again."""
    now = product.clock.now()
    evidence = attachments.check_intake_files(product, files) if files else []
    guard = SubmissionGuard.for_request(payload, actor.username if actor is not None else None, idempotency_key)
    try:
        with product.uow() as uow:
            first = guard.replay(uow.session, now)
            if first is not None:
                return Replayed(first)
            data = validate_submission(payload, now, public=guard.public)
            guard.refuse_duplicate(uow.session, data, now)
            submitted = submit_complaint(uow.session, product.runner, data, actor=actor, now=now,
                                         tracking_key=product.tracking_key, link_business=False)
            attachments.attach_at_intake(uow.session, product.blobs, submitted.complaint, evidence, actor, now)
            guard.remember(uow.session, submitted, now, render)
            link_complaint(uow.session, submitted.complaint, now)  # last: a new business's row stays locked
            uow.commit()
            return submitted
    except IntegrityError:
        if not guard.stores_rows:
            raise
        # a twin request committed the same key first (PostgreSQL let this insert wait for it)
        with product.uow() as uow:
            first = guard.after_race(uow.session, now)
        if first is None:
            raise
        return Replayed(first)
