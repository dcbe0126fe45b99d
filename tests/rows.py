"""Rows that tests of the task index and the sweep need beneath them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, insert
from sqlalchemy.orm import Session

from engine.db.tables import ProcessInstance, SpecVersion


def placeholder_instance(db: Connection | Session, now: datetime) -> int:
    """A running instance of an empty spec version, for index and deadline rows to point at (its state is
    never loaded)."""
    version_id = db.execute(insert(SpecVersion).values(
        key="k", version=1, filename="k.bpmn", bpmn_xml="", sha256="0" * 64, spec_json="{}", top_spec="k",
        start_messages=[], meta={}, uploaded_at=now).returning(SpecVersion.id)).scalar_one()
    return int(db.execute(insert(ProcessInstance).values(
        spec_version_id=version_id, status="running", state="", version=1, created_at=now, updated_at=now)
        .returning(ProcessInstance.id)).scalar_one())
