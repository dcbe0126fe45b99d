"""Versioned BPMN specs: upload, deploy, and a per-version cache of the parsed specs.

Running instances keep the version they started with; ``deploy`` only changes what new instances
use. Parsing costs milliseconds, so each version is restored once per process and kept.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.bpmn.loader import SpecBundle, collect_tasks, utf8_xml
from engine.bpmn.validation import validate_bpmn
from engine.db.tables import SpecDeployment, SpecVersion
from engine.errors import NotFound
from engine.serialization import spec_to_json, specs_from_json


@dataclass(frozen=True)
class UploadResult:
    version: SpecVersion
    created: bool


def upload(session: Session, xml: bytes | str, *, filename: str, actor: str | None, now: datetime,
           known_rules: Collection[str] | None, comment: str | None = None,
           based_on: int | None = None) -> UploadResult:
    """Validate and store a file as the next version of its key (same content → same version). A version
    saved from the editor keeps the admin's ``comment`` and the version it was edited from (``based_on``)
    in its ``meta``.

    A message the file throws must be caught in it or start a deployed workflow: deploy the
    catching workflow (e.g. ``case_conversion``) first."""
    raw = utf8_xml(xml)  # stored as text: a UTF-16 or GB18030 file is kept as its UTF-8 equivalent
    catchers = {message for row in _deployed(session) for message in (row.start_messages or [])}
    bundle = validate_bpmn(raw, filename, known_rules, external_catchers=catchers)
    digest = hashlib.sha256(raw).hexdigest()
    existing = session.scalar(
        select(SpecVersion).where(SpecVersion.key == bundle.key, SpecVersion.sha256 == digest))
    if existing is not None:
        return UploadResult(existing, created=False)
    latest = session.scalar(select(func.max(SpecVersion.version)).where(SpecVersion.key == bundle.key)) or 0
    version = SpecVersion(
        key=bundle.key, version=latest + 1, filename=filename, bpmn_xml=raw.decode("utf-8"), sha256=digest,
        spec_json=spec_to_json(bundle), top_spec=bundle.top_spec.name, start_messages=bundle.start_messages,
        meta={"process_properties": bundle.process_properties, "process_names": bundle.process_names,
              **({"comment": comment} if comment else {}), **({"based_on": based_on} if based_on else {})},
        uploaded_by=actor, uploaded_at=now,
    )
    session.add(version)
    session.flush()
    return UploadResult(version, created=True)


def deploy(session: Session, key: str, version_number: int, *, actor: str | None, now: datetime) -> SpecVersion:
    version = session.scalar(
        select(SpecVersion).where(SpecVersion.key == key, SpecVersion.version == version_number))
    if version is None:
        raise NotFound(f"未找到流程 {key} 第 {version_number} 版 / workflow {key} version {version_number} not found")
    deployment = session.get(SpecDeployment, key)
    if deployment is None:
        session.add(SpecDeployment(key=key, spec_version_id=version.id, deployed_at=now, deployed_by=actor))
    else:
        deployment.spec_version_id = version.id
        deployment.deployed_at = now
        deployment.deployed_by = actor
    session.flush()
    return version


def deployed_version(session: Session, key: str) -> SpecVersion:
    version = session.scalar(
        select(SpecVersion).join(SpecDeployment, SpecDeployment.spec_version_id == SpecVersion.id)
        .where(SpecDeployment.key == key))
    if version is None:
        raise NotFound(f"流程 {key} 没有已发布的版本 / no deployed version of workflow {key!r}")
    return version


def _deployed(session: Session) -> list[SpecVersion]:
    return list(session.scalars(
        select(SpecVersion).join(SpecDeployment, SpecDeployment.spec_version_id == SpecVersion.id)))


def deployed_starting_with(session: Session, message: str) -> list[SpecVersion]:
    """Deployed specs whose start event catches ``message`` (e.g. a case process for a clue)."""
    return [row for row in _deployed(session) if message in (row.start_messages or [])]


class SpecCache:
    """Parsed specs per version id, restored from the stored spec JSON on first use."""

    def __init__(self) -> None:
        self._bundles: dict[int, SpecBundle] = {}
        self._lock = threading.Lock()

    def get(self, session: Session, version_id: int) -> SpecBundle:
        bundle = self._bundles.get(version_id)
        if bundle is not None:
            return bundle
        row = session.get(SpecVersion, version_id)
        if row is None:
            raise NotFound(f"未找到流程版本 {version_id} / spec version {version_id} not found")
        return self.put(row)

    def put(self, row: SpecVersion) -> SpecBundle:
        top, subprocesses = specs_from_json(row.spec_json)
        meta = row.meta or {}
        bundle = SpecBundle(key=row.key, top_spec=top, subprocess_specs=subprocesses,
                            process_properties=meta.get("process_properties", {}),
                            process_names=meta.get("process_names", {}))
        collect_tasks(bundle)
        with self._lock:
            self._bundles.setdefault(row.id, bundle)
            return self._bundles[row.id]
