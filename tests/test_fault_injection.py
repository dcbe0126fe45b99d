"""Fault injection, end to end: two real servers on PostgreSQL under load while PostgreSQL restarts, the
SMTP server is down for a minute and one server is killed with SIGKILL.

What must hold afterwards:

- **nothing acknowledged is lost**: every complaint answered 201 is stored, with its workflow instance and
  a task index equal to the instance's READY tasks; every completion answered 200 is in the audit trail;
  and nothing is stored twice (clients repeat an unanswered submission with the same ``Idempotency-Key``,
  as a careful client does);
- **no answer is a 500**: while the database restarts, the answer is 503 with ``Retry-After``;
- **every notice is sent, once**: every e-mail in the outbox ends ``sent`` and reached the SMTP server
  exactly once — compared by the ``X-Idempotency-Key`` header (also the ``Message-ID``) the SMTP channel
  puts in every copy. The outbox is at-least-once: a dispatcher that sent a message and could not record
  it (killed, or the database gone at that moment) leaves its lease to expire, and the row is sent again
  with the same key for the receiver to drop. Only such rows may arrive twice, and the test names them;
- **the survivor keeps serving**: ``/healthz`` and a submission after the kill.

Real processes and the real clock: the servers' schedulers dispatch notices every 15 s and retry a failed
e-mail after one minute (+ up to 10 % jitter), so the test waits for real: 2.5–3.5 minutes in all, most of
it the minute of SMTP outage and the retry minute after it.
The one shortcut: a lease left by a dispatcher that died or lost the database (five minutes, which the
servers' clock cannot skip) is expired by the test once it is 30 s old — long after any send of a batch
has finished or timed out — instead of waiting the five minutes out.

It restarts the local PostgreSQL cluster (``pg_ctlcluster``, as ``scripts/test.sh`` starts it) and leaves
it running whatever happens.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Engine, create_engine, select, text, update
from sqlalchemy.pool import NullPool

from agencies.tables import Complaint
from bench._server import ROOT, free_port, servers
from complaintflow.settings import Settings
from complaintflow.wiring import build_product
from engine.db.migrate import upgrade
from engine.db.tables import AuditEvent, OpenTask, ProcessInstance
from engine.spiff import ready_human_tasks
from notifications.dispatcher import DEFAULT_POLICY
from notifications.smtp import KEY_HEADER
from notifications.tables import OutboxMessage
from tests.conftest import PG_ADMIN_URL
from tests.workflows.scenario import CONSENTED, ID_NUMBER, complaint_body

PASSWORD = "Fault-Huaihe-5r8t"
CLIENTS = 4
# the scenario, each step in seconds after the one before
RESTART_AFTER = 3.0
"""PostgreSQL restarts this long into the load; the SMTP server stops as soon as the database is back."""
SMTP_DOWN_FOR = 59.0
"""A minute, less a second of slack that keeps the outage (from the first refused message to the server
answering again) strictly shorter than the first retry delay, one minute: an e-mail whose first attempt
failed in the outage is retried after it, and never fails twice (a second failure waits two minutes more)."""
KILL_AFTER = 30.0
"""Into the SMTP outage: the killed server has e-mails due, maybe some claimed."""
LOAD_AFTER = 10.0
"""The load goes on this long after the SMTP server is back: e-mails due then go at the next dispatch."""
DRAIN_WITHIN = 120.0
"""After the SMTP server is back, every e-mail is sent within the retry delay (≤ 66 s) plus one dispatch
period (15 s), with room for a busy machine."""
TIME_LIMIT = 300.0
"""The whole test, set-up included (it took 155–203 s on a 2-core machine, other work running)."""
STALE_LEASE = timedelta(seconds=30)
REQUEST_PATIENCE = 60.0
"""How long a client keeps repeating one unanswered request (503s, a dead server) before giving up."""
STEPS: dict[str, dict[str, Any]] = {  # review → arrange → mediate: the acceptance and agreement e-mails
    "review": {"decision": "accept"},
    "arrange_mediation": {**CONSENTED, "mediator": "self"},
    "mediate": {"outcome": "agreement", "summary": "达成一致", "agreement_text": "退款", "violation_found": False},
}


# --- the world outside the servers --------------------------------------------------------------


def pg_version() -> str:
    return sorted(os.listdir("/etc/postgresql"))[0]


def pg_ready() -> bool:
    return subprocess.run(["pg_isready", "-h", "127.0.0.1", "-p", "5432", "-q"], timeout=30).returncode == 0


def wait_for_pg(seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not pg_ready():
        assert time.monotonic() < deadline, f"PostgreSQL not ready within {seconds} s"
        time.sleep(0.2)


def restart_pg() -> float:
    """Restart the local cluster (fast mode: every session is ended at once); its duration in seconds."""
    started = time.monotonic()
    restarted = subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", pg_version(), "main", "restart", "-m",
                                "fast"], capture_output=True, text=True, timeout=120)
    assert restarted.returncode == 0, f"pg_ctlcluster restart: {restarted.stdout} {restarted.stderr}"
    wait_for_pg(60)
    return time.monotonic() - started


def ensure_pg_running() -> None:
    """Whatever happened in the test, the rest of the suite finds PostgreSQL up."""
    if not pg_ready():
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", pg_version(), "main", "start"],
                       capture_output=True, timeout=120)
    wait_for_pg(60)


@contextmanager
def scratch_database() -> Iterator[tuple[str, Engine]]:
    """A migrated PostgreSQL database, dropped afterwards; the engine opens a connection per use, so the
    restart leaves it no dead connection to trip over."""
    name = f"cf_fault_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    engine = create_engine(url, poolclass=NullPool)
    try:
        upgrade(url)
        yield url, engine
    finally:
        engine.dispose()
        ensure_pg_running()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@dataclass
class Mailbox:
    """An SMTP server's handler that keeps every message it accepted. While ``accepting`` is off it refuses
    the message (421, try later): switched off just before the server stops, so that no message is cut
    off between being kept and its 250 reaching the sender — that would be a duplicate the test caused."""

    received: list[EmailMessage] = field(default_factory=list)
    accepting: bool = True

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if not self.accepting:
            return "421 4.3.2 shutting down, try again later"
        self.received.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
        return "250 OK"


class SmtpServer:
    def __init__(self) -> None:
        self.mailbox = Mailbox()
        self.port = free_port()
        self.url = f"smtp://127.0.0.1:{self.port}"
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()  # returns once it answers
        self.mailbox.accepting = True

    def stop(self) -> float:
        """Stop; when it began refusing messages (the outage's start)."""
        since = time.monotonic()
        self.mailbox.accepting = False
        time.sleep(0.5)  # a message being handed over now completes (or is refused) before the port closes
        if self.controller is not None:
            self.controller.stop()
            self.controller = None
        return since


# --- the clients --------------------------------------------------------------------------------


@dataclass
class Record:
    """What the clients saw: every answer's status (or the transport error), and what was acknowledged."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    outcomes: Counter[str] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    """5xx other than 503, and 503 without ``Retry-After``: method, path, status, body."""
    submitted: dict[int, str] = field(default_factory=dict)
    """Acknowledged complaints: id → tracking number."""
    submitted_after_kill: int = 0
    completed: list[str] = field(default_factory=list)
    """Acknowledged completions: task ids."""
    given_up: list[str] = field(default_factory=list)

    def saw(self, outcome: str) -> None:
        with self.lock:
            self.outcomes[outcome] += 1


class Client:
    """One liaison at a keyboard: submits complaints to the servers in turn and works each through review,
    arranging and mediation. An unanswered submission is sent again with its ``Idempotency-Key`` (to the
    next server); an unanswered completion is not repeated blindly — the client looks at what is open."""

    def __init__(self, number: int, urls: list[str], token: str, record: Record, killed: threading.Event) -> None:
        self.number, self.urls, self.record, self.killed = number, urls, record, killed
        self.turn = number
        self.http = httpx.Client(timeout=httpx.Timeout(20.0), headers={"Authorization": f"Bearer {token}"})

    def call(self, method: str, path: str, *, repeat: bool, **kwargs: Any) -> httpx.Response | None:
        """The answer, or ``None`` when the request got none (or only 503s, until patience ran out)."""
        patience = time.monotonic() + REQUEST_PATIENCE
        while True:
            self.turn += 1
            url = self.urls[self.turn % len(self.urls)]
            try:
                response = self.http.request(method, url + path, **kwargs)
            except httpx.TransportError as exc:  # the killed server
                self.record.saw(type(exc).__name__)
                # a refused connection sent nothing: any request may go to the next server
                if not (repeat or isinstance(exc, httpx.ConnectError)) or time.monotonic() > patience:
                    return None
                time.sleep(0.05)
                continue
            self.record.saw(str(response.status_code))
            if response.status_code >= 500 and (response.status_code != 503 or "retry-after" not in response.headers):
                with self.record.lock:
                    self.record.server_errors.append(f"{method} {path} → {response.status_code} {response.text[:300]}")
            if response.status_code != 503:
                return response
            if not repeat or time.monotonic() > patience:
                return None
            time.sleep(float(response.headers.get("retry-after", "1")))

    def run(self, stop: threading.Event) -> None:
        n = 0
        while not stop.is_set():
            n += 1
            self.one(n)

    def one(self, n: int) -> None:
        """Submit complaint ``n`` of this client and work it through."""
        key = f"fault-{self.number}-{n}"
        body = complaint_body(complainant={"name": "张三", "phone": "13812345678", "id_number": ID_NUMBER,
                                           "email": f"c{self.number}n{n}@example.cn"})
        created = self.call("POST", "/api/v1/complaints", repeat=True, json=body, headers={"Idempotency-Key": key})
        if created is None or created.status_code != 201:
            with self.record.lock:
                self.record.given_up.append(f"submission {key}: {created.status_code if created else 'no answer'}"
                                            f" {created.text[:200] if created else ''}")
            return
        answer = created.json()
        with self.record.lock:
            self.record.submitted[answer["id"]] = answer["tracking_no"]
            self.record.submitted_after_kill += self.killed.is_set()
        self.work(answer["id"], answer["next_tasks"])

    def work(self, complaint_id: int, open_tasks: list[dict[str, Any]]) -> None:
        for _ in range(2 * len(STEPS) + 2):
            task = next((t for t in open_tasks if t["task_name"] in STEPS), None)
            if task is None:
                return
            done = self.call("POST", f"/api/v1/tasks/{task['id']}/complete", repeat=False,
                             json={"data": STEPS[task["task_name"]]})
            if done is not None and done.status_code == 200:
                with self.record.lock:
                    self.record.completed.append(task["id"])
                open_tasks = done.json()["next_tasks"]
                continue
            # not acknowledged (503, the server killed mid-request): it may or may not have happened
            listed = self.call("GET", "/api/v1/tasks", repeat=True, params={"complaint_id": complaint_id})
            open_tasks = listed.json()["items"] if listed is not None and listed.status_code == 200 else []


# --- the checks ---------------------------------------------------------------------------------


class OutboxWatch:
    """Each e-mail's changes of (status, attempts, lease holder's pid) as the run goes, at test-relative times:
    when a row is sent late or twice, its history says which dispatcher did what and when."""

    def __init__(self, engine: Engine, started: float) -> None:
        self.engine, self.started = engine, started
        self.seen: dict[int, tuple[Any, ...]] = {}
        self.history: dict[int, list[str]] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.watch, daemon=True)
        self.thread.start()

    def watch(self) -> None:
        while not self.stop.wait(0.5):
            try:
                with self.engine.connect() as conn:
                    rows = list(conn.execute(select(
                        OutboxMessage.id, OutboxMessage.status, OutboxMessage.attempts, OutboxMessage.acquired_by,
                        OutboxMessage.next_attempt_at).where(OutboxMessage.channel == "email")))
            except Exception:  # the database restarting
                continue
            at = time.monotonic() - self.started
            for row in rows:
                pid = (row.acquired_by or "::").split(":")[1]
                state = (row.status, row.attempts, pid)
                if self.seen.get(row.id) != state:
                    self.seen[row.id] = state
                    due = (row.next_attempt_at - datetime.now(UTC)).total_seconds()
                    self.history.setdefault(row.id, []).append(
                        f"{at:.1f}s {row.status} attempts={row.attempts} by pid {pid or '-'}, due in {due:.0f}s")

    def close(self) -> None:
        self.stop.set()
        self.thread.join(10)

    def last_sent(self, count: int) -> list[int]:
        sent = {i: float(h[-1].split("s ", 1)[0]) for i, h in self.history.items() if " sent " in h[-1]}
        return sorted(sent, key=sent.__getitem__)[-count:]

    def explain(self, ids: list[int]) -> str:
        return "\n".join(f"outbox {i}: " + " | ".join(self.history.get(i, [])) for i in ids[:10])


def expire_stale_leases(engine: Engine) -> list[int]:
    """Expire the leases of e-mails claimed over 30 s ago and still unrecorded: their dispatcher died or lost
    the database between claiming and recording. The product expires them itself after ``lease`` (5 min)."""
    now = datetime.now(UTC)
    with engine.begin() as conn:
        rows = conn.execute(update(OutboxMessage).where(
            OutboxMessage.channel == "email", OutboxMessage.acquired_until > now,
            OutboxMessage.acquired_until < now + DEFAULT_POLICY.lease - STALE_LEASE,
        ).values(acquired_until=now).returning(OutboxMessage.id))
        return list(rows.scalars())


def drain_outbox(engine: Engine, deadline: float, watch: OutboxWatch) -> tuple[list[Any], set[int]]:
    """Wait until every e-mail in the outbox is sent (or dead); its rows, and those whose lease was expired."""
    expired: set[int] = set()
    while True:
        expired.update(expire_stale_leases(engine))
        with engine.connect() as conn:
            rows = list(conn.execute(select(
                OutboxMessage.id, OutboxMessage.idempotency_key, OutboxMessage.recipient, OutboxMessage.subject,
                OutboxMessage.status, OutboxMessage.attempts, OutboxMessage.last_error,
            ).where(OutboxMessage.channel == "email").order_by(OutboxMessage.id)))
        waiting = [r for r in rows if r.status not in ("sent", "dead")]
        if not waiting:
            return rows, expired
        assert time.monotonic() < deadline, (
            f"{len(waiting)} of {len(rows)} e-mails still unsent: "
            + "; ".join(f"outbox {r.id} {r.status} attempts={r.attempts} {r.last_error}" for r in waiting[:10])
            + "\n" + watch.explain([r.id for r in waiting]))
        time.sleep(2)


def check_stored(url: str, engine: Engine, record: Record) -> None:
    """Every acknowledged complaint and completion is stored, nothing twice; each task index is the truth."""
    with engine.connect() as conn:
        complaints = {row.id: row for row in conn.execute(select(
            Complaint.id, Complaint.tracking_no, Complaint.process_instance_id))}
        instances = set(conn.execute(select(ProcessInstance.id)).scalars())
        indexed: dict[int, set[str]] = {}
        for task_id, instance_id in conn.execute(select(OpenTask.id, OpenTask.instance_id)):
            indexed.setdefault(instance_id, set()).add(task_id)
        audited = set(conn.execute(select(AuditEvent.task_id).where(AuditEvent.action == "task.completed")).scalars())
    lost = {i: t for i, t in record.submitted.items() if complaints.get(i) is None or complaints[i].tracking_no != t}
    assert not lost, f"acknowledged complaints missing: {lost}"
    extra = set(complaints) - set(record.submitted)
    assert not extra, f"stored but never acknowledged (a repeated submission stored twice?): {extra}"
    without_instance = [i for i, c in complaints.items() if c.process_instance_id not in instances]
    assert not without_instance, f"complaints without their workflow instance: {without_instance}"
    unaudited = set(record.completed) - audited
    assert not unaudited, f"acknowledged completions missing from the audit trail: {unaudited}"
    assert not set(record.completed) & {t for ids in indexed.values() for t in ids}, "a completed task is still open"
    product = build_product(Settings(database_url=url, complaintflow_secret_key=secrets.token_urlsafe(48)))
    try:
        with product.session_factory() as session:
            wrong = []
            for instance_id in sorted(instances):
                ready = {str(t.id) for t in ready_human_tasks(product.runner.load_workflow(session, instance_id))}
                if ready != indexed.get(instance_id, set()):
                    wrong.append(f"instance {instance_id}: index {indexed.get(instance_id)} != ready {ready}")
    finally:
        product.close()
    assert not wrong, f"task index differs from the workflow: {wrong[:10]}"
    assert all(indexed.get(c.process_instance_id) for c in complaints.values()), "an instance without open tasks"


def check_mail(rows: list[Any], expired: set[int], received: list[EmailMessage], watch: OutboxWatch,
               ) -> dict[str, int]:
    """Each e-mail reached the SMTP server exactly once, by its idempotency key; a row whose lease was expired
    (sent, maybe, by a dispatcher that could not record it) at most twice, every copy the same message."""
    dead = [f"outbox {r.id}: {r.last_error}" for r in rows if r.status == "dead"]
    assert not dead, f"e-mails given up: {dead}"
    copies: dict[str, list[EmailMessage]] = {}
    for message in received:
        copies.setdefault(str(message[KEY_HEADER]), []).append(message)
    unknown = set(copies) - {r.idempotency_key for r in rows}
    assert not unknown, f"e-mails received that the outbox never held: {unknown}"
    duplicated = []
    for row in rows:
        got = copies.get(row.idempotency_key, [])
        assert got, f"outbox {row.id} is marked sent but never reached the SMTP server"
        for message in got:
            assert (str(message["To"]), str(message["Subject"])) == (row.recipient, row.subject), row.id
            assert str(message["Message-ID"]).startswith(f"<{row.idempotency_key}@"), row.id
        if len(got) > 1:
            duplicated.append(row.id)
            assert row.id in expired and len(got) == 2, (
                f"outbox {row.id} was received {len(got)} times though no dispatcher lost track of it:\n"
                + watch.explain([row.id]))
    return {"emails": len(rows), "received": len(received), "retried": sum(r.attempts > 1 for r in rows),
            "leases_expired": len(expired), "duplicates_same_key": len(duplicated)}


def log_tails(logs: Path) -> str:
    """The end of each server's output, without the access log."""
    tails = []
    for path in sorted(logs.glob("server-*.log")):
        lines = [line for line in path.read_text(errors="replace").splitlines() if " HTTP/1.1\" " not in line]
        tails.append(f"--- {path.name} (last lines but the access log) ---\n" + "\n".join(lines[-60:]))
    return "\n".join(tails)


def tracebacks(logs: Path) -> str:
    """The servers' logged 500s (``unexpected error, request_id=…`` and the traceback after it)."""
    found = []
    for path in sorted(logs.glob("server-*.log")):
        lines = path.read_text(errors="replace").splitlines()
        for index, line in enumerate(lines):
            if "unexpected error" in line:
                found.append(f"{path.name}: " + "\n".join(lines[index:index + 40]))
    return "\n".join(found[:3])


# --- the test -----------------------------------------------------------------------------------


@pytest.mark.postgresql_only
def test_restart_smtp_outage_and_kill_lose_nothing_and_send_each_notice_once(tmp_path: Path) -> None:
    started = time.monotonic()
    timeline: list[str] = []

    def note(event: str) -> None:
        timeline.append(f"{time.monotonic() - started:6.1f}s {event}")

    smtp = SmtpServer()
    smtp.start()
    record = Record()
    killed = threading.Event()
    try:
        with scratch_database() as (url, engine):
            env = {**os.environ, "DATABASE_URL": url, "COMPLAINTFLOW_DEMO_PASSWORD": PASSWORD,
                   "COMPLAINTFLOW_SECRET_KEY": secrets.token_urlsafe(48), "SMTP_URL": smtp.url}
            seeded = subprocess.run([sys.executable, "-m", "complaintflow.cli", "seed", "--demo"],
                                    cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
            assert seeded.returncode == 0, seeded.stderr
            note("seeded")
            with servers(env, 2, logs=tmp_path) as (urls, processes), ExitStack() as stack:
                note("servers up")
                try:
                    signed_in = httpx.post(f"{urls[0]}/api/v1/auth/token", timeout=30,
                                           data={"username": "th-amr.liaison", "password": PASSWORD})
                    assert signed_in.status_code == 200, signed_in.text
                    token = signed_in.json()["access_token"]
                    watch = OutboxWatch(engine, started)
                    stack.callback(watch.close)
                    stop_load = threading.Event()
                    clients = [Client(n, urls, token, record, killed) for n in range(CLIENTS)]
                    threads = [threading.Thread(target=c.run, args=(stop_load,)) for c in clients]
                    for thread in threads:
                        thread.start()
                    note("load started")
                    try:
                        time.sleep(RESTART_AFTER)
                        note(f"PostgreSQL restarted in {restart_pg():.1f} s")
                        smtp_down = smtp.stop()
                        note(f"SMTP down (stopping took {time.monotonic() - smtp_down:.1f} s)")
                        time.sleep(max(0.0, smtp_down + KILL_AFTER - time.monotonic()))
                        processes[1].kill()
                        processes[1].wait(10)
                        killed.set()
                        note(f"server 1 killed (SIGKILL), exit {processes[1].returncode}")
                        time.sleep(max(0.0, smtp_down + SMTP_DOWN_FOR - time.monotonic()))
                        smtp.start()
                        smtp_up = time.monotonic()
                        note(f"SMTP up again on the same port after {smtp_up - smtp_down:.1f} s")
                        time.sleep(LOAD_AFTER)
                    finally:
                        stop_load.set()
                        for thread in threads:
                            thread.join(2 * REQUEST_PATIENCE)
                        for client in clients:
                            client.http.close()
                    assert not any(t.is_alive() for t in threads), "a client is stuck"
                    assert smtp_up - smtp_down < DEFAULT_POLICY.base_delay.total_seconds(), (
                        "the SMTP outage outlasted the first retry delay: e-mails may fail twice and wait minutes")
                    note(f"load over: {dict(record.outcomes)}")

                    # the survivor keeps serving
                    survivor = urls[0]
                    assert httpx.get(f"{survivor}/healthz", timeout=10).status_code == 200
                    last = Client(CLIENTS, [survivor], token, record, killed)
                    last.one(1)
                    last.http.close()
                    assert record.outcomes["500"] == 0 and not record.server_errors, (
                        f"server errors: {record.server_errors[:10]}\n{tracebacks(tmp_path)}")
                    assert not record.given_up, f"never acknowledged: {record.given_up[:10]}"
                    assert record.submitted_after_kill >= 2, "the survivor took no submission after the kill"
                    assert record.outcomes["503"] > 0, "the restart was not noticed: did it hit the load?"

                    check_stored(url, engine, record)
                    note(f"{len(record.submitted)} complaints, {len(record.completed)} completions stored")
                    rows, expired = drain_outbox(engine, smtp_up + DRAIN_WITHIN, watch)
                    note("outbox drained; the last sent:\n" + watch.explain(watch.last_sent(3)))
                    figures = check_mail(rows, expired, smtp.mailbox.received, watch)
                    note(f"mail: {figures}")
                    assert figures["retried"] > 0, "no e-mail was due while SMTP was down"
                    assert figures["emails"] >= 20
                except BaseException:
                    print(log_tails(tmp_path))
                    raise
                finally:
                    print("\n".join(timeline))
    finally:
        smtp.stop()
        ensure_pg_running()
    elapsed = time.monotonic() - started
    print(f"fault injection: {elapsed:.0f} s")
    assert elapsed < TIME_LIMIT, f"took {elapsed:.0f} s, bound {TIME_LIMIT:.0f} s"
