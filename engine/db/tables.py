"""Engine tables: spec versions, instances, the task index, messages, timers and the audit log.

The inbox and the sweep read only these index tables, never a serialized workflow.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.db.base import Base

BigId = BigInteger().with_variant(Integer(), "sqlite")


class SpecVersion(Base):
    """One uploaded BPMN file, parsed once; ``key`` groups the versions of one file."""

    __tablename__ = "spec_versions"
    __table_args__ = (UniqueConstraint("key", "version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(255))
    bpmn_xml: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    spec_json: Mapped[str] = mapped_column(Text)
    top_spec: Mapped[str] = mapped_column(String(100))
    start_messages: Mapped[list[str]] = mapped_column(JSON, default=list)
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    uploaded_by: Mapped[str | None] = mapped_column(String(100))
    uploaded_at: Mapped[datetime]


class SpecDeployment(Base):
    """Which version of a spec new instances use."""

    __tablename__ = "spec_deployments"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    spec_version_id: Mapped[int] = mapped_column(ForeignKey("spec_versions.id"))
    deployed_at: Mapped[datetime]
    deployed_by: Mapped[str | None] = mapped_column(String(100))


class ProcessInstance(Base):
    """A running workflow: state without its spec, guarded by an integer version (optimistic lock)."""

    __tablename__ = "process_instances"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    spec_version_id: Mapped[int] = mapped_column(ForeignKey("spec_versions.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    state: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)
    complaint_id: Mapped[int | None] = mapped_column(BigId, index=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class OpenTask(Base):
    """The task index: one row per READY human task, written with the state that made it.

    Its two indexes hold the inbox's whole order (engine/task_inbox.py), so a page of an agency's tasks,
    all of them or one liaison's, is read in index order and stops after the page, whatever the
    agency's backlog; with the deadline alone, 1M open tasks cost a sort of each agency's backlog,
    or a bitmap join of two indexes for "assigned to me"."""

    __tablename__ = "open_tasks"
    __table_args__ = (
        # ``lane`` last: not part of the order, but an inbox filtered by the reader's lanes (and its
        # total) is then decided from index entries alone, without reading each row
        Index("ix_open_tasks_agency_order", "agency_code", "due_at", "created_at", "id", "lane"),
        Index("ix_open_tasks_agency_assignee_order", "agency_code", "assignee", "due_at", "created_at", "id", "lane"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"), index=True)
    complaint_id: Mapped[int | None] = mapped_column(BigId, index=True)
    task_name: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(200))
    process_id: Mapped[str] = mapped_column(String(100))
    lane: Mapped[str | None] = mapped_column(String(50))
    agency_code: Mapped[str | None] = mapped_column(String(50))
    assignee: Mapped[str | None] = mapped_column(String(100))
    deadline_rule: Mapped[str | None] = mapped_column(String(50))
    deadline_start: Mapped[datetime | None]
    deadline_extended: Mapped[bool] = mapped_column(Boolean, default=False)
    received_at: Mapped[datetime | None]
    due_at: Mapped[datetime | None]
    provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    suspended_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class TaskSuspension(Base):
    """A span in which a task's clock stood still (检定、检验、检测、鉴定; 中止): its deadline moves by it."""

    __tablename__ = "task_suspensions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    task_id: Mapped[str] = mapped_column(String(36), index=True)
    suspended_at: Mapped[datetime]
    resumed_at: Mapped[datetime | None]
    reason: Mapped[str] = mapped_column(String(500))
    suspended_by: Mapped[str] = mapped_column(String(100))


class DeadlineStep(Base):
    """One rung of the escalation ladder for one task deadline; done once, by whichever sweep claims it."""

    __tablename__ = "deadline_steps"
    __table_args__ = (
        UniqueConstraint("task_id", "step", "due_at"),
        Index("ix_deadline_steps_pending", "done_at", "fire_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    task_id: Mapped[str] = mapped_column(String(36), index=True)
    instance_id: Mapped[int] = mapped_column(BigId)
    step: Mapped[str] = mapped_column(String(30))
    due_at: Mapped[datetime]
    fire_at: Mapped[datetime]
    done_at: Mapped[datetime | None]


class MessageSubscription(Base):
    """A catch event that is waiting: lets a message find its instance without loading any state."""

    __tablename__ = "message_subscriptions"
    __table_args__ = (Index("ix_message_subscriptions_name_corr", "name", "correlation"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    correlation: Mapped[str | None] = mapped_column(String(100))


class PendingMessage(Base):
    """A message that arrived before anyone waited for it; redelivered when a catcher appears."""

    __tablename__ = "pending_messages"
    __table_args__ = (Index("ix_pending_messages_name_corr", "name", "correlation"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    correlation: Mapped[str | None] = mapped_column(String(100))
    payload: Mapped[Any] = mapped_column(JSON)
    source_instance_id: Mapped[int | None] = mapped_column(BigId)
    created_at: Mapped[datetime]


class PendingTimer(Base):
    """A BPMN timer that is waiting, so the sweep loads only instances with a timer due."""

    __tablename__ = "pending_timers"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"), index=True)
    task_name: Mapped[str] = mapped_column(String(100))
    fire_at: Mapped[datetime] = mapped_column(index=True)


class AuditEvent(Base):
    """Append-only record of every action: who, when, what, before and after."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(60))
    instance_id: Mapped[int | None] = mapped_column(BigId, index=True)
    complaint_id: Mapped[int | None] = mapped_column(BigId, index=True)
    case_id: Mapped[int | None] = mapped_column(BigId)
    task_id: Mapped[str | None] = mapped_column(String(36), index=True)
    agency_code: Mapped[str | None] = mapped_column(String(50))
    details: Mapped[Any] = mapped_column(JSON, default=dict)


class CalendarYear(Base):
    """A published year (the State Council's annual notice) entered by an admin."""

    __tablename__ = "calendar_years"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    holidays: Mapped[list[str]] = mapped_column(JSON)
    workdays: Mapped[list[str]] = mapped_column(JSON)
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(100))


class DeadlineRuleRow(Base):
    """An admin-set version of a deadline rule; a rule with rows here replaces its shipped default."""

    __tablename__ = "deadline_rules"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(50), index=True)
    period: Mapped[str] = mapped_column(String(20))
    counts_from: Mapped[str] = mapped_column(String(200))
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    extension: Mapped[str | None] = mapped_column(String(20))
    on_expiry: Mapped[str] = mapped_column(String(200), default="")
    source: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(100))
