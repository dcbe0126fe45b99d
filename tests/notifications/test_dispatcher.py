"""The dispatcher: leases, crashes between send and mark-sent, fencing, and concurrent dispatchers."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from agencies.notices import notify_complainant
from engine.clock import FixedClock
from notifications.channels import CapturingChannel, SmtpChannel
from notifications.config import OutboxConfig
from notifications.dispatcher import RetryPolicy, claim, dispatch_pending
from notifications.message import Channel, Envelope
from notifications.tables import OutboxMessage
from tests.notifications.conftest import CONFIG, NOW, SMS, Mailbox, World, make_world

LEASE = RetryPolicy().lease


class SimulatedCrash(BaseException):
    """The process dies: nothing after the raise runs (not an ``Exception``, so nothing catches it)."""


@dataclass
class CrashAfterSend:
    """Sends for real, then dies before the dispatcher can mark the row sent."""

    inner: Channel

    def send(self, envelope: Envelope) -> None:
        self.inner.send(envelope)
        raise SimulatedCrash


def queue(session_factory: sessionmaker[Session], world: World, count: int = 1, template: str = "acceptance",
          config: OutboxConfig = CONFIG) -> None:
    with session_factory() as session:
        for n in range(count):
            notify_complainant(session, config, complaint_id=world.complaint_id, template=template,
                               key=f"notice:{n}", context={"agency": "th-amr"}, now=NOW)
        session.commit()


def outbox(session_factory: sessionmaker[Session]) -> list[OutboxMessage]:
    with session_factory() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_a_crash_between_send_and_mark_sent_resends_with_the_same_key(
        session_factory: sessionmaker[Session], world: World, smtp_server: Mailbox) -> None:
    queue(session_factory, world)
    clock = FixedClock(NOW)
    smtp = SmtpChannel(smtp_server.url, "noreply@amr.example.cn")
    with pytest.raises(SimulatedCrash):
        dispatch_pending(session_factory, {"email": CrashAfterSend(smtp)}, clock, CONFIG, worker_id="doomed")
    [row] = outbox(session_factory)
    assert (row.status, row.attempts, row.acquired_by, row.acquired_until) == ("pending", 1, "doomed", NOW + LEASE)
    assert len(smtp_server.received) == 1  # it did arrive; the outbox cannot know

    clock.advance(LEASE - timedelta(seconds=1))  # the dead dispatcher's lease still holds
    assert dispatch_pending(session_factory, {"email": smtp}, clock, CONFIG, worker_id="heir").claimed == 0
    clock.advance(timedelta(seconds=1))
    assert dispatch_pending(session_factory, {"email": smtp}, clock, CONFIG, worker_id="heir").sent == 1

    first, second = (mail.message for mail in smtp_server.received)
    assert first["Message-ID"] == second["Message-ID"] == f"<{row.idempotency_key}@amr.example.cn>"
    assert first["X-Idempotency-Key"] == second["X-Idempotency-Key"]  # at least once; receivers de-duplicate
    assert first["Subject"] == second["Subject"] == f"投诉受理告知（{world.tracking_no}）"
    [row] = outbox(session_factory)
    assert (row.status, row.attempts, row.acquired_by, row.sent_at) == ("sent", 2, "heir", NOW + LEASE)


def test_a_notice_that_keeps_killing_dispatchers_is_dead_lettered(session_factory: sessionmaker[Session],
                                                                  world: World) -> None:
    queue(session_factory, world)
    clock = FixedClock(NOW)
    capture = CapturingChannel()
    for _ in range(3):
        with pytest.raises(SimulatedCrash):
            dispatch_pending(session_factory, {"email": CrashAfterSend(capture)}, clock, CONFIG, max_attempts=3)
        clock.advance(LEASE)
    report = dispatch_pending(session_factory, {"email": capture}, clock, CONFIG, max_attempts=3)
    assert (report.claimed, report.dead) == (0, 1)
    assert len(capture.sent) == 3
    [row] = outbox(session_factory)
    assert (row.status, row.attempts, row.dead_at, row.acquired_until) == ("dead", 3, clock.now(), None)
    assert "never reported back" in (row.last_error or "")


@dataclass
class SlowChannel:
    """Each send takes two minutes of (fixed-clock) time."""

    clock: FixedClock
    sent: list[Envelope] = field(default_factory=list)

    def send(self, envelope: Envelope) -> None:
        self.sent.append(envelope)
        self.clock.advance(timedelta(minutes=2))


def test_a_row_whose_lease_ran_out_in_a_slow_batch_is_not_sent_on_it(session_factory: sessionmaker[Session],
                                                                      world: World) -> None:
    queue(session_factory, world, count=4)
    clock = FixedClock(NOW)
    slow = SlowChannel(clock)
    report = dispatch_pending(session_factory, {"email": slow}, clock, CONFIG, limit=4, max_batches=1)
    # sends start at +0, +2, +4 minutes; at +6 the 5-minute lease is over: the fourth is left alone
    assert (report.claimed, report.sent, report.lease_lost) == (4, 3, 1)
    assert [r.status for r in outbox(session_factory)] == ["sent", "sent", "sent", "pending"]
    report = dispatch_pending(session_factory, {"email": slow}, clock, CONFIG)  # any dispatcher takes it over
    assert (report.claimed, report.sent) == (1, 1)
    assert Counter(e.outbox_id for e in slow.sent) == {1: 1, 2: 1, 3: 1, 4: 1}


def test_a_dispatcher_overtaken_after_its_lease_cannot_overwrite_the_row(session_factory: sessionmaker[Session],
                                                                         world: World) -> None:
    queue(session_factory, world)
    clock = FixedClock(NOW)
    capture = CapturingChannel()
    reports = []

    class Stalling:
        """Worker A stalls past its lease; meanwhile worker B takes the row over and sends it."""

        def send(self, envelope: Envelope) -> None:
            clock.advance(LEASE + timedelta(seconds=1))
            reports.append(dispatch_pending(session_factory, {"email": capture}, clock, CONFIG, worker_id="B"))
            capture.send(envelope)

    report_a = dispatch_pending(session_factory, {"email": Stalling()}, clock, CONFIG, worker_id="A")
    [report_b] = reports
    assert (report_b.sent, report_a.sent, report_a.lease_lost) == (1, 0, 1)
    [row] = outbox(session_factory)
    assert (row.status, row.acquired_by, row.attempts) == ("sent", "B", 2)
    assert [e.idempotency_key for e in capture.sent] == [row.idempotency_key] * 2
    assert [e.attempt for e in capture.sent] == [2, 1]  # B's attempt finished first


def test_a_channel_bug_fails_one_row_not_the_batch(session_factory: sessionmaker[Session], world: World) -> None:
    queue(session_factory, world, count=2)

    class Buggy:
        def send(self, envelope: Envelope) -> None:
            if envelope.outbox_id == 1:
                raise RuntimeError("boom")

    report = dispatch_pending(session_factory, {"email": Buggy()}, FixedClock(NOW), CONFIG)
    assert (report.sent, report.retried) == (1, 1)
    assert report.errors == ["outbox 1 (email, attempt 1): RuntimeError: boom"]
    assert [(r.status, r.last_error) for r in outbox(session_factory)] == [("retry", "RuntimeError: boom"),
                                                                          ("sent", None)]


def test_rows_for_a_channel_this_process_lacks_wait(session_factory: sessionmaker[Session], world: World) -> None:
    queue(session_factory, world, config=SMS)
    report = dispatch_pending(session_factory, {"email": CapturingChannel()}, FixedClock(NOW), CONFIG)
    assert report.sent == 1
    assert [(r.channel, r.status, r.attempts) for r in outbox(session_factory)] == [("email", "sent", 1),
                                                                                   ("sms", "pending", 0)]
    assert claim(session_factory, channels=set(), now=NOW, worker_id="w", limit=10) == []


def test_two_dispatchers_on_postgresql_send_each_notice_exactly_once(
        pg_session_factory: sessionmaker[Session]) -> None:
    world = make_world(pg_session_factory)
    queue(pg_session_factory, world, count=200)
    both_busy = threading.Barrier(2, timeout=20)
    sent: list[tuple[str, int]] = []
    lock = threading.Lock()

    @dataclass
    class Recording:
        worker: str
        first: bool = True

        def send(self, envelope: Envelope) -> None:
            if self.first:  # hold the first send until the other dispatcher has claimed a batch too
                self.first = False
                both_busy.wait()
            with lock:
                sent.append((self.worker, envelope.outbox_id))

    errors: list[BaseException] = []

    def run(worker: str) -> None:
        try:
            dispatch_pending(pg_session_factory, {"email": Recording(worker)}, FixedClock(NOW), CONFIG, limit=20,
                             worker_id=worker)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(f"w{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    per_row = Counter(outbox_id for _worker, outbox_id in sent)
    assert len(per_row) == 200 and set(per_row.values()) == {1}
    assert set(Counter(worker for worker, _ in sent)) == {"w0", "w1"}
    rows = outbox(pg_session_factory)
    assert {r.status for r in rows} == {"sent"} and {r.attempts for r in rows} == {1}
    assert Counter(r.acquired_by for r in rows) == Counter(worker for worker, _ in sent)


def test_claiming_skips_rows_another_transaction_holds(pg_session_factory: sessionmaker[Session]) -> None:
    world = make_world(pg_session_factory)
    queue(pg_session_factory, world, count=10)
    holder = pg_session_factory()
    held = holder.scalars(select(OutboxMessage.id).order_by(OutboxMessage.id).limit(4).with_for_update()).all()
    claimed: list[int] = []
    thread = threading.Thread(target=lambda: claimed.extend(
        c.envelope.outbox_id for c in claim(pg_session_factory, channels={"email"}, now=NOW, worker_id="w",
                                            limit=100)))
    thread.start()
    thread.join(10)
    try:
        assert not thread.is_alive()  # did not wait for the holder
        assert sorted(claimed) == [r.id for r in outbox(pg_session_factory) if r.id not in held]
    finally:
        holder.rollback()
        holder.close()
        thread.join(10)


def test_backoff_doubles_is_capped_and_its_jitter_is_fixed_per_row_and_attempt() -> None:
    exact = RetryPolicy(jitter=0)
    assert [exact.delay(n, "k") for n in range(1, 11)] == [timedelta(minutes=m) for m in
                                                         (1, 2, 4, 8, 16, 32, 64, 128, 256, 360)]
    assert exact.delay(1000, "k") == timedelta(hours=6)
    policy = RetryPolicy()
    for attempt in range(1, 9):
        base = exact.delay(attempt, "k")
        assert base <= policy.delay(attempt, "k") < base * 1.1
        assert policy.delay(attempt, "k") == policy.delay(attempt, "k")
    assert len({policy.delay(1, f"key-{n}") for n in range(20)}) == 20  # rows that failed together spread out
