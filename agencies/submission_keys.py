"""A submission repeated is answered, not stored twice: ``Idempotency-Key`` replays and duplicate public complaints.

Clients repeat themselves: a phone loses its connection after sending and retries, a citizen presses
"submit" twice or comes back the next morning with the same text. Two rules keep each complaint
stored once, both kept as ``SubmissionKey`` rows written in the complaint's own unit of work, so a
row exists exactly when its complaint does:

- **Idempotency-Key** (staff and public, optional header): within ``IDEMPOTENCY_WINDOW`` the same key
  with the same body gets the first answer again — the same id, tracking number and tracking code —
  and the same key with another body is refused (422 naming ``Idempotency-Key``). Staff keys are
  scoped per user, public keys by the key alone.
- **Identical public complaint** (with or without a key; a form that mints a new key per click would
  otherwise defeat the rule): within ``DUPLICATE_WINDOW`` a public complaint whose normalised content
  matches an earlier one is refused (409) with the earlier tracking number, never its tracking code
  (whoever can repeat the content is not thereby its complainant).

Two identical requests racing both find no row and both register; the primary key lets one commit
and makes the other fail with an ``IntegrityError``, whose caller looks again (``after_race``) and
answers as to a repeat. Row keys are hashes of at most 66 characters, so any username and key fit.

A stored answer holds the tracking code, a secret: an expired row is never answered from, is
replaced when its key comes again, and is deleted by ``purge_expired`` (run by every sweep).
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from agencies.intake import ComplaintIn
from agencies.submission import Submitted
from agencies.tables import SubmissionKey
from engine.db.affected import rows_affected
from engine.errors import Conflict, FieldError, InvalidInput

IDEMPOTENCY_WINDOW = timedelta(hours=24)
"""How long a key's first answer is kept and replayed. A client retries within seconds or minutes;
a day covers a phone that comes back online the next morning, and bounds how long a tracking code is
stored outside its hash."""

DUPLICATE_WINDOW = timedelta(hours=24)
"""How long an identical public complaint is refused. Within a day a repeat is a double submission;
later it may be a new occurrence, and the staff who read both can merge them."""

HEADER = "Idempotency-Key"
# printable ASCII, 1–100 characters, no space at either end (HTTP would strip it on the way)
_KEY_PATTERN = re.compile(r"[\x21-\x7e](?:[\x20-\x7e]{0,98}[\x21-\x7e])?")

Render = Callable[[Submitted], dict[str, Any]]


class DuplicateSubmission(Conflict):
    """The same public complaint arrived within ``DUPLICATE_WINDOW`` (409)."""

    def __init__(self, tracking_no: str) -> None:
        super().__init__(
            f"相同内容的投诉已经收到，受理编号 {tracking_no}，请勿重复提交；请凭首次提交时取得的查询码查询办理进度"
            f" / this complaint was already received as {tracking_no}; please do not submit it again"
        )
        self.tracking_no = tracking_no


def _key_reused() -> InvalidInput:
    return InvalidInput([FieldError(
        HEADER, "该 Idempotency-Key 已用于另一份内容不同的提交，新的提交请换一个 / "
                "this key was already used for a different submission")])


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def request_key(header: str | None, username: str | None) -> str | None:
    """The row key for an ``Idempotency-Key`` header (``None`` without one): ``u:`` + hash of the
    username and key for staff, ``p:`` + hash of the key for the public form. ``InvalidInput`` for a
    key that is not 1–100 printable ASCII characters."""
    if header is None:
        return None
    if not _KEY_PATTERN.fullmatch(header):
        raise InvalidInput([FieldError(
            HEADER, "Idempotency-Key 须为 1 至 100 个可打印 ASCII 字符，首尾不能是空格 / "
            "must be 1–100 printable ASCII characters, no space at either end")])
    if username is None:
        return "p:" + _sha256("p:" + header)
    return "u:" + _sha256(json.dumps(["u", username, header]))  # a username may contain ":" itself


def request_digest(payload: Mapping[str, Any]) -> str:
    """The body's hash, independent of key order and spacing: "the same body" for a repeated key."""
    return _sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str))


def _normalised(text: str | None) -> str:
    """Full-width or half-width forms, spaces and letter case do not make a complaint new (Chinese text
    needs no spaces, so they are dropped altogether rather than collapsed)."""
    return "".join(unicodedata.normalize("NFKC", text or "").split()).casefold()


def content_fingerprint(data: ComplaintIn) -> str:
    """``f:`` + the hash of what makes two public complaints the same one: who complains, about which
    business, and what (kind, category, subject, description, amount, date)."""
    parts = [
        data.kind.value, _normalised(data.complainant.name), data.complainant.phone,
        _normalised(data.business.name), data.business.region_code, data.category.value,
        _normalised(data.subject), _normalised(data.description),
        "" if data.amount is None else str(data.amount),
        "" if data.occurred_on is None else data.occurred_on.isoformat(),
    ]
    return "f:" + _sha256(json.dumps(parts, ensure_ascii=False))


def basic_answer(submitted: Submitted) -> dict[str, Any]:
    """What a submission answers when the caller gives no rendering of its own."""
    return {"id": submitted.complaint.id, "tracking_no": submitted.complaint.tracking_no,
            "tracking_code": submitted.tracking_code, "status": submitted.complaint.status,
            "process_instance_id": submitted.process_instance_id}


@dataclass(frozen=True)
class _Row:
    request_sha256: str
    response: dict[str, Any]


def _live_row(session: Session, key: str, now: datetime, *, clear_expired: bool) -> _Row | None:
    """The row for ``key`` if it has not expired; an expired one is deleted (``clear_expired``) so
    that this transaction may store the key anew."""
    found = session.execute(select(SubmissionKey.request_sha256, SubmissionKey.response, SubmissionKey.expires_at)
                            .where(SubmissionKey.key == key)).first()
    if found is None:
        return None
    if found.expires_at > now:
        return _Row(found.request_sha256, dict(found.response))
    if clear_expired:
        session.execute(delete(SubmissionKey).where(SubmissionKey.key == key, SubmissionKey.expires_at <= now))
    return None


@dataclass
class SubmissionGuard:
    """The repeat checks of one submission, in the order ``complaintflow.services.complaints.submit`` runs them:
    ``replay`` (before validating: a retry gets its answer even if the rules changed meanwhile),
    ``refuse_duplicate`` (public, on the validated content), ``remember`` (after registering, in the
    same transaction), and ``after_race`` when the commit lost a race on one of these keys."""

    key: str | None
    digest: str
    public: bool
    fingerprint: str | None = None

    @classmethod
    def for_request(cls, payload: Mapping[str, Any], username: str | None, header: str | None) -> SubmissionGuard:
        """``username`` is the signed-in staff member, ``None`` for the public form."""
        key = request_key(header, username)
        digest = request_digest(payload) if key is not None or username is None else ""
        return cls(key, digest, public=username is None)

    @property
    def stores_rows(self) -> bool:
        return self.key is not None or self.public

    def replay(self, session: Session, now: datetime, *, clear_expired: bool = True) -> dict[str, Any] | None:
        """The first answer to this key and body, or ``None`` for a new key; ``InvalidInput`` when the
        key answered a different body."""
        if self.key is None:
            return None
        row = _live_row(session, self.key, now, clear_expired=clear_expired)
        if row is None:
            return None
        if row.request_sha256 != self.digest:
            raise _key_reused()
        return row.response

    def refuse_duplicate(self, session: Session, data: ComplaintIn, now: datetime, *,
                         clear_expired: bool = True) -> None:
        """``DuplicateSubmission`` when the same public complaint was received within the window."""
        if not self.public:
            return
        if self.fingerprint is None:
            self.fingerprint = content_fingerprint(data)
        row = _live_row(session, self.fingerprint, now, clear_expired=clear_expired)
        if row is not None:
            raise DuplicateSubmission(str(row.response.get("tracking_no", "")))

    def remember(self, session: Session, submitted: Submitted, now: datetime, render: Render | None) -> None:
        """Store the keys with the complaint (an ``IntegrityError`` here means a racing twin won). The
        content row keeps the tracking number only: it answers strangers too."""
        rows: list[dict[str, Any]] = []
        common = {"request_sha256": self.digest, "complaint_id": submitted.complaint.id}
        if self.key is not None:
            rows.append({"key": self.key, **common, "expires_at": now + IDEMPOTENCY_WINDOW,
                         "response": (render or basic_answer)(submitted)})
        if self.fingerprint is not None:
            rows.append({"key": self.fingerprint, **common, "expires_at": now + DUPLICATE_WINDOW,
                         "response": {"tracking_no": submitted.complaint.tracking_no}})
        if rows:
            session.execute(insert(SubmissionKey), rows)

    def after_race(self, session: Session, now: datetime) -> dict[str, Any] | None:
        """After an ``IntegrityError``, in a new transaction: the winner's answer (same key and body),
        or the refusal a repeat gets; ``None`` if no key of ours is taken (the error was another one)."""
        answer = self.replay(session, now, clear_expired=False)
        if answer is not None:
            return answer
        if self.fingerprint is not None:
            row = _live_row(session, self.fingerprint, now, clear_expired=False)
            if row is not None:
                raise DuplicateSubmission(str(row.response.get("tracking_no", "")))
        return None


def purge_expired(session: Session, now: datetime) -> int:
    """Delete every expired row (their stored answers hold tracking codes); the number deleted."""
    result = session.execute(delete(SubmissionKey).where(SubmissionKey.expires_at <= now))
    return rows_affected(result)
