"""Where stored files live: one small interface, several stores.

Every server process must read every file (several processes, possibly on several machines), so a file
never lives only on one process's disk: the database store keeps the bytes in ``blobs.data`` (the default
on PostgreSQL), the directory store in a directory every process shares (the default on SQLite: beside the
database file), the S3 store in an S3-compatible bucket when one is configured. Files are kept by the
SHA-256 of their bytes, so the same bytes are stored once and a stored file never changes.

Every store writes the file's ``blobs`` row in the caller's transaction: the row is the record that the
file exists. Bytes a store wrote outside the database for a transaction that then rolled back have no
row; the store registers ``forget_unrecorded`` to run after such a rollback (``engine.uow.on_rollback``),
so a failed use case leaves no file behind.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from agencies.tables import Blob
from engine.db.dialect import dialect_insert
from engine.uow import on_rollback


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class BlobStore(Protocol):
    """Keeps files by their SHA-256 (see the module's docstring)."""

    def put(self, session: Session, data: bytes, now: datetime) -> str:
        """Store ``data`` (once: the same bytes again are a no-op) and record it in ``session``'s
        transaction; its SHA-256."""
        ...

    def get(self, session: Session, sha256: str) -> bytes | None:
        """The stored bytes, or ``None`` when no file of that SHA-256 is recorded."""
        ...

    def forget_unrecorded(self, session: Session, sha256s: Iterable[str]) -> None:
        """After a rollback: remove the bytes of these files that have no ``blobs`` row."""
        ...


def _record(session: Session, sha256: str, size: int, now: datetime, data: bytes | None) -> None:
    statement = dialect_insert(session, Blob).values(sha256=sha256, size=size, data=data, created_at=now)
    session.execute(statement.on_conflict_do_nothing(index_elements=["sha256"]))


def _recorded(session: Session, sha256s: Iterable[str]) -> set[str]:
    wanted = list(set(sha256s))
    return set(session.scalars(select(Blob.sha256).where(Blob.sha256.in_(wanted)))) if wanted else set()


class DatabaseBlobStore:
    """The bytes in ``blobs.data``: committed or rolled back with everything else."""

    def put(self, session: Session, data: bytes, now: datetime) -> str:
        digest = sha256_of(data)
        _record(session, digest, len(data), now, data)
        return digest

    def get(self, session: Session, sha256: str) -> bytes | None:
        row = session.get(Blob, sha256)
        return row.data if row is not None else None

    def forget_unrecorded(self, session: Session, sha256s: Iterable[str]) -> None:
        return None  # the bytes went with the rolled-back row


class DirectoryBlobStore:
    """The bytes in ``root/ab/cdef…`` (the SHA-256, split for directory sizes), written to a temporary
    file and renamed into place, so a reader never sees half a file."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_of(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError(f"not a SHA-256: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:]

    def put(self, session: Session, data: bytes, now: datetime) -> str:
        digest = sha256_of(data)
        target = self.path_of(digest)
        on_rollback(session, lambda after: self.forget_unrecorded(after, [digest]))
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                os.replace(temporary, target)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        _record(session, digest, len(data), now, None)
        return digest

    def get(self, session: Session, sha256: str) -> bytes | None:
        if session.get(Blob, sha256) is None:
            return None
        try:
            return self.path_of(sha256).read_bytes()
        except FileNotFoundError:
            return None

    def forget_unrecorded(self, session: Session, sha256s: Iterable[str]) -> None:
        digests = set(sha256s)
        for digest in digests - _recorded(session, digests):
            self.path_of(digest).unlink(missing_ok=True)


_MISSING = frozenset({"404", "NoSuchKey", "NotFound"})


def _missing(exc: Exception) -> bool:
    """Whether an S3 client error says the object is not there."""
    response = getattr(exc, "response", None)
    code = response.get("Error", {}).get("Code") if isinstance(response, dict) else None
    return str(code) in _MISSING


class S3BlobStore:
    """The bytes in an S3-compatible bucket, one object per file named by its SHA-256; ``blobs.data`` stays
    ``NULL``. ``client`` is a boto3 S3 client (thread-safe; one per product)."""

    def __init__(self, client: Any, bucket: str) -> None:
        self.client = client
        self.bucket = bucket

    def _exists(self, sha256: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=sha256)
        except Exception as exc:  # botocore's ClientError: only "not there" is an answer
            if _missing(exc):
                return False
            raise
        return True

    def put(self, session: Session, data: bytes, now: datetime) -> str:
        digest = sha256_of(data)
        on_rollback(session, lambda after: self.forget_unrecorded(after, [digest]))
        if not self._exists(digest):  # an object is never rewritten: the same key always holds the same bytes
            self.client.put_object(Bucket=self.bucket, Key=digest, Body=data, ContentLength=len(data),
                                   ContentType="application/octet-stream")
        _record(session, digest, len(data), now, None)
        return digest

    def get(self, session: Session, sha256: str) -> bytes | None:
        if session.get(Blob, sha256) is None:
            return None
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=sha256)
        except Exception as exc:  # botocore's ClientError: only "not there" is an answer
            if _missing(exc):
                return None
            raise
        body = answer["Body"]
        try:
            return bytes(body.read())
        finally:
            body.close()

    def forget_unrecorded(self, session: Session, sha256s: Iterable[str]) -> None:
        digests = set(sha256s)
        for digest in sorted(digests - _recorded(session, digests)):
            self.client.delete_object(Bucket=self.bucket, Key=digest)
