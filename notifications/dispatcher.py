"""Send what the outbox holds: claimed under a lease, sent outside any transaction, at least once.

One round (``dispatch_pending``, run by the scheduler in every server process):

1. Release the daily digests that are due (``notifications.digest``).
2. **Claim** — one short transaction: due rows (``pending``/``retry``, ``next_attempt_at <= now``,
   no live lease, a channel this process has) are selected ``FOR UPDATE SKIP LOCKED`` on
   PostgreSQL — concurrent dispatchers take different rows and never wait for each other; SQLite
   serialises writers instead — and stamped with a lease (``acquired_by``, ``acquired_until``)
   and ``attempts + 1``. Committed before anything is sent.
3. **Send** each row through its channel, carrying the row's idempotency key — unless the lease has
   run out meanwhile (a slow batch), in which case the row is left for whoever reclaims it. The files
   an e-mail names are read just before (``fetch``, the product's file store); one that cannot be read
   fails the attempt, so an e-mail never goes out without the document it announces.
4. **Finish** — one short transaction per row, fenced by (``acquired_by``, ``attempts``): ``sent``;
   or ``retry`` at ``now + backoff``; or ``dead`` after ``max_attempts`` or a permanent refusal.

A dispatcher that dies between 3 and 4 leaves a lease that expires; the row is claimed again and
sent again with the same key (at-least-once; receivers de-duplicate by key). A row whose lease
expired ``max_attempts`` times is dead-lettered rather than sent again: something about it keeps
killing dispatchers.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from engine.clock import Clock
from engine.db.affected import rows_affected
from engine.db.dialect import skip_locked
from notifications.config import OutboxConfig
from notifications.dead_letters import list_dead_letters, retry_dead
from notifications.digest import release_digests
from notifications.errors import DeliveryError, PermanentDeliveryError
from notifications.message import Channel, Envelope, FetchFile
from notifications.tables import OutboxMessage
from notifications.vocab import DUE_STATUSES, Status

__all__ = ["DispatchReport", "RetryPolicy", "claim", "dispatch_pending", "list_dead_letters", "release_digests",
           "retry_dead"]

log = logging.getLogger(__name__)
MAX_ERROR_LENGTH = 1000


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    base_delay: timedelta = timedelta(minutes=1)
    max_delay: timedelta = timedelta(hours=6)
    jitter: float = 0.1
    """Up to this fraction of the delay is added, fixed per row and attempt (a hash of the key, not
    a random draw): rows that failed together spread out, and tests stay deterministic."""
    lease: timedelta = timedelta(minutes=5)
    """How long a claim holds; longer than a batch takes to send (per-send timeouts are 10 s)."""

    def delay(self, attempts: int, idempotency_key: str) -> timedelta:
        """Wait after the ``attempts``-th failure: 1, 2, 4, … minutes, at most 6 hours (+ jitter).
        With the defaults the eighth failure comes about two hours after the first."""
        base = min(self.base_delay * (1 << min(max(attempts - 1, 0), 30)), self.max_delay)  # 2**n, typed int
        digest = hashlib.sha256(f"{idempotency_key}:{attempts}".encode()).digest()
        return base * (1 + self.jitter * int.from_bytes(digest[:8]) / 2**64)


DEFAULT_POLICY = RetryPolicy()


@dataclass
class DispatchReport:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    dead: int = 0
    lease_lost: int = 0
    """Rows not sent (lease ran out before their turn) or not marked (another dispatcher took over)."""
    digests: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Claim:
    envelope: Envelope
    attempts: int
    lease_until: datetime


def default_worker_id() -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def dispatch_pending(session_factory: sessionmaker[Session], channels: Mapping[str, Channel], clock: Clock,
                     config: OutboxConfig, *, limit: int = 100, worker_id: str | None = None,
                     max_attempts: int | None = None, policy: RetryPolicy = DEFAULT_POLICY,
                     max_batches: int = 20, fetch: FetchFile | None = None) -> DispatchReport:
    """Send due rows in batches of ``limit`` until none are left (at most ``max_batches`` batches).
    ``config`` is the outbox settings the digests released first are rendered with; ``fetch`` reads the
    bytes of the files e-mails carry (without it, a row naming files is not sent and retried later)."""
    if max_attempts is not None:
        policy = RetryPolicy(max_attempts, policy.base_delay, policy.max_delay, policy.jitter, policy.lease)
    worker_id = worker_id or default_worker_id()
    report = DispatchReport(digests=release_digests(session_factory, clock.now(), config))
    for _ in range(max_batches):
        claims = claim(session_factory, channels=set(channels), now=clock.now(), worker_id=worker_id, limit=limit,
                       policy=policy, report=report)
        for item in claims:
            _send_one(session_factory, channels[item.envelope.channel], item, clock, worker_id, policy, report,
                      fetch)
        if len(claims) < limit:
            break
    return report


def claim(session_factory: sessionmaker[Session], *, channels: set[str], now: datetime, worker_id: str, limit: int,
          policy: RetryPolicy = DEFAULT_POLICY, report: DispatchReport | None = None) -> list[Claim]:
    """Take up to ``limit`` due rows under a lease, in one committed transaction."""
    if not channels:
        return []
    report = report if report is not None else DispatchReport()
    lease_until = now + policy.lease
    with session_factory() as session:
        query = (select(OutboxMessage)
                 .where(OutboxMessage.status.in_(DUE_STATUSES), OutboxMessage.next_attempt_at <= now,
                        OutboxMessage.channel.in_(channels),
                        or_(OutboxMessage.acquired_until.is_(None), OutboxMessage.acquired_until <= now))
                 .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(limit))
        claims = []
        for row in session.scalars(skip_locked(session, query)):
            if row.acquired_until is not None and row.attempts >= policy.max_attempts:
                row.status, row.dead_at, row.acquired_until = Status.DEAD.value, now, None
                row.last_error = (f"attempt {row.attempts} never reported back (dispatcher {row.acquired_by} "
                                  f"stopped while sending?); given up after {row.attempts} attempts")
                report.dead += 1
                report.errors.append(f"outbox {row.id} ({row.channel}): {row.last_error}")
                continue
            row.acquired_by, row.acquired_until, row.attempts = worker_id, lease_until, row.attempts + 1
            claims.append(Claim(Envelope.of(row), row.attempts, lease_until))
        session.commit()
    report.claimed += len(claims)
    return claims


def _send_one(session_factory: sessionmaker[Session], channel: Channel, item: Claim, clock: Clock, worker_id: str,
              policy: RetryPolicy, report: DispatchReport, fetch: FetchFile | None = None) -> None:
    envelope = item.envelope
    if clock.now() >= item.lease_until:
        report.lease_lost += 1  # not sent: another dispatcher may already hold it
        return
    error: str | None = None
    permanent = False
    try:
        channel.send(_with_files(envelope, fetch))
    except PermanentDeliveryError as exc:
        error, permanent = str(exc), True
    except DeliveryError as exc:
        error = str(exc)
    except Exception as exc:  # a bug in a channel must not stop the batch; a crash (BaseException) does
        log.exception("outbox %s: channel %s raised", envelope.outbox_id, envelope.channel)
        error = f"{type(exc).__name__}: {exc}"
    now = clock.now()
    if error is None:
        values: dict[str, object] = {"status": Status.SENT.value, "sent_at": now, "acquired_until": None,
                                     "last_error": None}
    else:
        error = _redact(error, envelope.recipient)
        if permanent or item.attempts >= policy.max_attempts:
            values = {"status": Status.DEAD.value, "dead_at": now, "acquired_until": None, "last_error": error}
        else:
            values = {"status": Status.RETRY.value, "acquired_until": None, "last_error": error,
                      "next_attempt_at": now + policy.delay(item.attempts, envelope.idempotency_key)}
    with session_factory() as session:
        result = session.execute(update(OutboxMessage).where(
            OutboxMessage.id == envelope.outbox_id, OutboxMessage.acquired_by == worker_id,
            OutboxMessage.attempts == item.attempts, OutboxMessage.status.in_(DUE_STATUSES)).values(**values))
        session.commit()
    if rows_affected(result) == 0:
        report.lease_lost += 1  # our lease ran out and another dispatcher took the row over
        return
    if error is None:
        report.sent += 1
        return
    report.errors.append(f"outbox {envelope.outbox_id} ({envelope.channel}, attempt {item.attempts}): {error}")
    log.warning("outbox %s (%s) attempt %s failed: %s", envelope.outbox_id, envelope.channel, item.attempts, error)
    if values["status"] == Status.DEAD.value:
        report.dead += 1
    else:
        report.retried += 1


def _with_files(envelope: Envelope, fetch: FetchFile | None) -> Envelope:
    """The envelope with its attachments' bytes, read through ``fetch``; ``DeliveryError`` (a retry) when
    one cannot be read: the file store may be briefly unreachable, and the notice is worth the wait."""
    if not envelope.attachments:
        return envelope
    if fetch is None:
        raise DeliveryError("attachments: this dispatcher has no file store to read them from")
    loaded = []
    for attachment in envelope.attachments:
        data = fetch(attachment.sha256)
        if data is None:
            raise DeliveryError(f"attachment {attachment.sha256[:12]}… not found in the file store")
        loaded.append(replace(attachment, data=data))
    return replace(envelope, attachments=tuple(loaded))


def _redact(error: str, recipient: str) -> str:
    """Errors are logged and shown in lists: keep the address or phone number out of them."""
    return error.replace(recipient, "<recipient>")[:MAX_ERROR_LENGTH]
