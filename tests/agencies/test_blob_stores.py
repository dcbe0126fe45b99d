"""One contract for every blob store, on SQLite and PostgreSQL: the database store, the directory store and
the S3 store against moto's S3-compatible server over real HTTP (a server on a local port, not a mock)."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3  # type: ignore[import-untyped]
import pytest
from moto.server import ThreadedMotoServer
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from agencies.blobs import BlobStore, DatabaseBlobStore, DirectoryBlobStore, S3BlobStore, sha256_of
from agencies.tables import Blob
from complaintflow.settings import Settings
from complaintflow.wiring import blob_store
from engine.clock import SHANGHAI

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=SHANGHAI)
RECEIPT = "发票：空调 3299.00 元\n".encode() * 100


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """moto's S3-compatible server, over HTTP on a free local port, for this module."""
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def s3_client(endpoint: str) -> Any:
    return boto3.session.Session().client("s3", endpoint_url=endpoint, region_name="us-east-1",
                                          aws_access_key_id="test", aws_secret_access_key="test")


def new_bucket(endpoint: str) -> str:
    name = f"cf-{uuid.uuid4().hex[:12]}"
    s3_client(endpoint).create_bucket(Bucket=name)
    return name


@dataclass
class Kept:
    """A store and what it holds outside the database (``None``: it keeps nothing outside)."""

    store: BlobStore
    outside: Callable[[], set[str]] | None
    keeps_bytes_in_row: bool


@pytest.fixture(params=["database", "directory", "s3"])
def kept(request: pytest.FixtureRequest, tmp_path: Path) -> Kept:
    if request.param == "database":
        return Kept(DatabaseBlobStore(), None, True)
    if request.param == "directory":
        root = tmp_path / "files"
        return Kept(DirectoryBlobStore(root), lambda: {p.parent.name + p.name for p in root.glob("*/*")
                                                      if not p.name.startswith(".")}, False)
    endpoint = request.getfixturevalue("s3_endpoint")
    bucket = new_bucket(endpoint)
    client = s3_client(endpoint)

    def objects() -> set[str]:
        return {o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", [])}

    return Kept(S3BlobStore(client, bucket), objects, False)


def _rows(session: Session) -> list[Blob]:
    return list(session.scalars(select(Blob)))


def test_put_records_the_file_in_the_callers_transaction_and_get_reads_it(
        kept: Kept, session_factory: sessionmaker[Session]) -> None:
    with session_factory() as session:
        digest = kept.store.put(session, RECEIPT, NOW)
        session.commit()
    assert digest == sha256_of(RECEIPT)
    with session_factory() as session:
        [row] = _rows(session)
        assert (row.sha256, row.size) == (digest, len(RECEIPT))
        assert row.data == (RECEIPT if kept.keeps_bytes_in_row else None)
        assert kept.store.get(session, digest) == RECEIPT
    if kept.outside is not None:
        assert kept.outside() == {digest}


def test_the_same_bytes_twice_are_stored_once(kept: Kept, session_factory: sessionmaker[Session]) -> None:
    digests = []
    for _ in range(2):
        with session_factory() as session:
            digests.append(kept.store.put(session, RECEIPT, NOW))
            digests.append(kept.store.put(session, RECEIPT, NOW))  # twice in one transaction too
            session.commit()
    assert len(set(digests)) == 1
    with session_factory() as session:
        assert len(_rows(session)) == 1
    if kept.outside is not None:
        assert kept.outside() == {digests[0]}


def test_a_rolled_back_file_is_not_readable_and_forget_unrecorded_removes_its_bytes(
        kept: Kept, session_factory: sessionmaker[Session]) -> None:
    other = b"%PDF-1.7 another file"
    with session_factory() as session:
        kept_digest = kept.store.put(session, other, NOW)
        session.commit()
    with session_factory() as session:
        lost = kept.store.put(session, RECEIPT, NOW)
        session.rollback()
    with session_factory() as session:
        assert kept.store.get(session, lost) is None  # no row: as if it never was, even where bytes remain
        kept.store.forget_unrecorded(session, [lost, kept_digest])
    with session_factory() as session:
        assert [row.sha256 for row in _rows(session)] == [kept_digest]
        assert kept.store.get(session, kept_digest) == other  # a recorded file is never forgotten
        assert kept.store.get(session, "0" * 64) is None
    if kept.outside is not None:
        assert kept.outside() == {kept_digest}


def test_the_s3_store_is_chosen_and_configured_from_settings(s3_endpoint: str, database_url: str,
                                                             session_factory: sessionmaker[Session]) -> None:
    bucket = new_bucket(s3_endpoint)
    store = blob_store(Settings(database_url=database_url, complaintflow_blob_store="s3",
                                complaintflow_s3_endpoint_url=s3_endpoint, complaintflow_s3_bucket=bucket,
                                complaintflow_s3_region="us-east-1", complaintflow_s3_access_key_id="test",
                                complaintflow_s3_secret_access_key="test"))  # type: ignore[arg-type]
    assert isinstance(store, S3BlobStore)
    with session_factory() as session:
        digest = store.put(session, RECEIPT, NOW)
        session.commit()
    body = s3_client(s3_endpoint).get_object(Bucket=bucket, Key=digest)["Body"].read()
    assert body == RECEIPT
    with pytest.raises(ValueError, match="COMPLAINTFLOW_S3_BUCKET"):
        blob_store(Settings(database_url=database_url, complaintflow_blob_store="s3"))


def test_a_unit_of_work_that_does_not_commit_leaves_no_bytes_behind(
        kept: Kept, session_factory: sessionmaker[Session]) -> None:
    """What any use case writes to a store (a document rendered in a transition, an upload, a case file) is
    removed again when its unit of work ends without a commit, failing or not."""
    from engine.uow import UnitOfWork

    with pytest.raises(RuntimeError), UnitOfWork(session_factory) as failing:
        kept.store.put(failing.session, RECEIPT, NOW)
        raise RuntimeError("the transition failed after the file was written")
    with UnitOfWork(session_factory) as abandoned:
        kept.store.put(abandoned.session, b"%PDF-1.7 never committed", NOW)
    with UnitOfWork(session_factory) as committed:
        digest = kept.store.put(committed.session, b"%PDF-1.7 kept", NOW)
        committed.commit()
    with session_factory() as session:
        assert [row.sha256 for row in _rows(session)] == [digest]
    if kept.outside is not None:
        assert kept.outside() == {digest}
