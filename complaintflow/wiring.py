"""Composition root: build the product's objects once, from settings, and pass them down."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from sqlalchemy import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from agencies.blobs import BlobStore, DatabaseBlobStore, DirectoryBlobStore, S3BlobStore
from agencies.deadline_regions import AgencyRegions
from agencies.roles import AgencyLanePolicy
from agencies.tracking import derive_tracking_key
from agencies.workflow_hooks import ProductHooks
from complaintflow.secret_key import secret_key
from complaintflow.settings import Settings, get_settings
from engine.clock import Clock, SystemClock
from engine.db.session import make_engine, make_read_session_factory, make_session_factory
from engine.deadlines.service import DeadlineService
from engine.runner import Runner
from engine.specs import SpecCache
from engine.uow import UnitOfWork
from notifications.channels import Channel, build_channels
from notifications.config import OutboxConfig


@dataclass
class Product:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    clock: Clock
    deadlines: DeadlineService
    runner: Runner
    secret_key: str
    outbox: OutboxConfig
    """The outbox's settings (SMS gateway, template overrides, digest hour), for every notice and job."""
    blobs: BlobStore
    """Where stored files live (evidence, documents, case files): every server process reads the same."""
    specs: SpecCache = field(default_factory=SpecCache)
    channels: dict[str, Channel] = field(default_factory=dict)
    _read_factory: sessionmaker[Session] | None = None

    @cached_property
    def tracking_key(self) -> bytes:
        """The key of tracking-code hashes, derived from the secret key (never the key itself)."""
        return derive_tracking_key(self.secret_key)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.session_factory)

    def reader(self) -> UnitOfWork:
        """A unit of work for reading only (never committed; no write lock on SQLite)."""
        if self._read_factory is None:  # one per product: each would otherwise bring its own caches
            self._read_factory = make_read_session_factory(self.engine)
        return UnitOfWork(self._read_factory)

    def fetch_blob(self, sha256: str) -> bytes | None:
        """The bytes of a stored file, read in a short transaction of its own: the port through which the
        outbox's dispatcher reads the files e-mails carry (``notifications.message.FetchFile``)."""
        with self.reader() as uow:
            return self.blobs.get(uow.session, sha256)

    def close(self) -> None:
        self.engine.dispose()


def build_product(settings: Settings | None = None, clock: Clock | None = None) -> Product:
    settings = settings or get_settings()
    key = secret_key(settings)  # first: a product that cannot sign must not start
    clock = clock or SystemClock()
    engine = make_engine(settings.database_url)
    deadlines = DeadlineService()
    specs = SpecCache()
    outbox = outbox_config(settings)
    blobs = blob_store(settings)
    runner = Runner(clock, specs, deadlines, ProductHooks(clock, deadlines, outbox, blobs), AgencyLanePolicy(),
                    regions=AgencyRegions())
    session_factory = make_session_factory(engine)
    channels = outbox_channels(settings)
    return Product(settings, engine, session_factory, clock, deadlines, runner, key, outbox, blobs, specs, channels)


def blob_store(settings: Settings) -> BlobStore:
    """The configured store; unset, the database on PostgreSQL and a directory beside the file on SQLite
    (``<db>.files``), or ``COMPLAINTFLOW_BLOB_DIR``."""
    kind = settings.complaintflow_blob_store
    url = make_url(settings.database_url)
    if kind is None:
        kind = "directory" if url.get_backend_name() == "sqlite" else "database"
    if kind == "database":
        return DatabaseBlobStore()
    if kind == "directory":
        if settings.complaintflow_blob_dir:
            return DirectoryBlobStore(Path(settings.complaintflow_blob_dir))
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            database = Path(url.database)
            return DirectoryBlobStore(database.with_name(database.name + ".files"))
        return DirectoryBlobStore(Path.cwd() / "complaintflow.files")
    return s3_blob_store(settings)


def s3_blob_store(settings: Settings) -> S3BlobStore:
    """The S3 store of ``COMPLAINTFLOW_S3_*`` (the bucket must exist); refused at start without a bucket."""
    if not settings.complaintflow_s3_bucket:
        raise ValueError("COMPLAINTFLOW_BLOB_STORE=s3 需要 COMPLAINTFLOW_S3_BUCKET（存放文件的桶名）")
    import boto3  # type: ignore[import-untyped]  # only when configured: it is slow to import

    secret = settings.complaintflow_s3_secret_access_key
    client = boto3.session.Session().client(
        "s3", endpoint_url=settings.complaintflow_s3_endpoint_url, region_name=settings.complaintflow_s3_region,
        aws_access_key_id=settings.complaintflow_s3_access_key_id,
        aws_secret_access_key=secret.get_secret_value() if secret is not None else None)
    return S3BlobStore(client, settings.complaintflow_s3_bucket)


def outbox_config(settings: Settings) -> OutboxConfig:
    """SMS rows are queued only when the webhook gateway that sends them is fully configured (URL and
    secret): otherwise they would wait in the outbox for a channel that never comes."""
    return OutboxConfig(
        sms_via_webhook=bool(settings.complaintflow_webhook_url and settings.complaintflow_webhook_secret),
        templates_dir=settings.complaintflow_templates_dir)


def outbox_channels(settings: Settings) -> dict[str, Channel]:
    """The channels the dispatcher sends through: e-mail when SMTP is configured, SMS when the webhook is."""
    return build_channels(settings.smtp_url, settings.complaintflow_webhook_url,
                          settings.complaintflow_webhook_secret, settings.complaintflow_mail_from)
