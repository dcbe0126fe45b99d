"""Drive the reference workflows through the service layer, as the demo agencies would.

A ``Scenario`` holds a seeded, deployed database and plays users: submit a complaint, find a task in
an agency's inbox, complete it. ``restart()`` throws the engine objects away and builds new ones over
the same database, as a process restart would.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from agencies.demo import seed_demo
from agencies.repository import get_user
from agencies.submission import submit_complaint
from agencies.tables import Case, Complaint
from agencies.users import actor_for
from complaintflow.settings import Settings
from complaintflow.wiring import Product, build_product
from engine.clock import SHANGHAI, FixedClock
from engine.db.tables import AuditEvent, OpenTask, PendingTimer, ProcessInstance
from engine.runner import Actor, CompletionResult
from engine.specs import deploy, upload
from tests.agencies.factories import TAIHE_ID

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"
START = datetime(2026, 11, 18, 9, 30, tzinfo=SHANGHAI)  # a Wednesday

ID_NUMBER = TAIHE_ID
# what ``arrange_mediation`` records before a mediation can start: both parties consent
CONSENTED = {"complainant_consent": True, "business_consent": True, "consent_how": "电话征求双方意见"}


# the demo's business enrolled in online dispute resolution, and its user
ODR_BUSINESS = {"name": "太和县诚信家电有限公司", "region_code": "341222", "uscc": "91341222MA2N0Y7K3G",
                "address": "安徽省阜阳市太和县城关镇细阳路88号"}
BUSINESS_USER = "th-cxjd.staff"


def complaint_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "complaint",
        "complainant": {"name": "张三", "phone": "13812345678", "id_number": ID_NUMBER,
                        "email": "zhangsan@example.com"},
        "business": {"name": "太和县某某电器商行", "region_code": "341222",
                     "address": "安徽省阜阳市太和县城关镇人民路1号"},
        "category": "quality",
        "subject": "空调制冷故障",
        "description": "购买的空调一周后不制冷，商家拒绝维修。",
        "amount": "3299.00",
    }
    body.update(overrides)
    return body


@dataclass
class Scenario:
    database_url: str
    clock: FixedClock = field(default_factory=lambda: FixedClock(START))
    product: Product = field(init=False)
    codes: dict[int, str] = field(default_factory=dict)  # complaint id -> its tracking code, as intake gave it

    def __post_init__(self) -> None:
        self.product = build_product(Settings(database_url=self.database_url), self.clock)

    # ------------------------------------------------------------------ set-up
    def seed(self) -> Scenario:
        with self.product.uow() as uow:
            seed_demo(uow.session, "Huaihe-Demo-2026!", now=self.clock.now())
            for path in sorted(WORKFLOWS.glob("*.bpmn")):
                version = upload(uow.session, path.read_bytes(), filename=path.name, actor="admin",
                                 now=self.clock.now(), known_rules=self.product.deadlines.rule_names()).version
                deploy(uow.session, version.key, version.version, actor="admin", now=self.clock.now())
            uow.commit()
        return self

    def restart(self) -> None:
        self.product.close()
        self.product = build_product(Settings(database_url=self.database_url), self.clock)

    def close(self) -> None:
        self.product.close()

    # ------------------------------------------------------------------ acting
    def actor(self, username: str) -> Actor:
        with self.product.uow() as uow:
            user = get_user(uow.session, username)
            assert user is not None, username
            return actor_for(uow.session, user)

    def submit(self, received_by: str | None = "th-amr", **overrides: Any) -> Complaint:
        actor = self.actor(f"{received_by}.liaison") if received_by else None
        with self.product.uow() as uow:
            submitted = submit_complaint(uow.session, self.product.runner, complaint_body(**overrides),
                                         actor=actor, now=self.clock.now(), tracking_key=self.product.tracking_key)
            uow.commit()
            self.codes[submitted.complaint.id] = submitted.tracking_code
            return submitted.complaint

    def business_do(self, name: str, data: dict[str, Any], complaint: Complaint,
                    username: str = BUSINESS_USER) -> CompletionResult:
        """A business's own user works the business's task of this complaint."""
        actor = self.actor(username)
        assert actor.agency_code is not None, username
        return self.do(actor.agency_code, name, data, complaint, username=username)

    def inbox(self, agency: str, complaint: Complaint | None = None) -> list[OpenTask]:
        with self.product.uow() as uow:
            query = select(OpenTask).where(OpenTask.agency_code == agency).order_by(OpenTask.due_at)
            if complaint is not None:
                query = query.where(OpenTask.complaint_id == complaint.id)
            return list(uow.session.scalars(query))

    def task(self, agency: str, name: str, complaint: Complaint | None = None) -> OpenTask:
        matching = [t for t in self.inbox(agency, complaint) if t.task_name == name]
        names = [t.task_name for t in self.inbox(agency, complaint)]
        assert len(matching) == 1, f"{agency} expected one {name!r} task, inbox has {names}"
        return matching[0]

    def do(self, agency: str, name: str, data: dict[str, Any], complaint: Complaint | None = None,
           role: str = "liaison", username: str | None = None) -> CompletionResult:
        task = self.task(agency, name, complaint)
        actor = self.actor(username or f"{agency}.{role}")
        with self.product.uow() as uow:
            self.product.runner.tasks.claim(uow.session, task.id, actor)
            result = self.product.runner.complete_task(uow.session, task.id, data, actor)
            uow.commit()
            return result

    # ------------------------------------------------------------------ reading
    def complaint(self, complaint_id: int) -> Complaint:
        with self.product.uow() as uow:
            row = uow.session.get(Complaint, complaint_id)
            assert row is not None
            return row

    def complaint_by_tracking(self, tracking_no: str) -> int:
        with self.product.uow() as uow:
            return uow.session.scalars(select(Complaint.id).where(Complaint.tracking_no == tracking_no)).one()

    def open_task_names(self, complaint: Complaint) -> list[str]:
        with self.product.uow() as uow:
            return sorted(uow.session.scalars(select(OpenTask.task_name).where(OpenTask.complaint_id == complaint.id)))

    def instances(self, complaint: Complaint) -> list[ProcessInstance]:
        with self.product.uow() as uow:
            return list(uow.session.scalars(select(ProcessInstance).where(ProcessInstance.complaint_id == complaint.id)
                                            .order_by(ProcessInstance.id)))

    def pending_timers(self, complaint: Complaint) -> list[datetime]:
        with self.product.uow() as uow:
            return list(uow.session.scalars(
                select(PendingTimer.fire_at).join(ProcessInstance, ProcessInstance.id == PendingTimer.instance_id)
                .where(ProcessInstance.complaint_id == complaint.id)))

    def cases(self, complaint: Complaint) -> list[Case]:
        with self.product.uow() as uow:
            return list(uow.session.scalars(select(Case).where(Case.complaint_id == complaint.id)))

    def notices(self, complaint: Complaint) -> list[str]:
        """Templates of the complainant notices queued for this complaint, in order."""
        from notifications.tables import OutboxMessage

        with self.product.uow() as uow:
            rows = uow.session.scalars(select(OutboxMessage).where(OutboxMessage.complaint_id == complaint.id)
                                       .order_by(OutboxMessage.id))
            return [template for _key, template in dict.fromkeys((r.key, r.template) for r in rows)]

    def audit_actions(self, complaint: Complaint) -> list[str]:
        with self.product.uow() as uow:
            return list(uow.session.scalars(select(AuditEvent.action).where(AuditEvent.complaint_id == complaint.id)
                                            .order_by(AuditEvent.id)))
