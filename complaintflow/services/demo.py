"""The demo: its agencies and users, the reference workflows and a few sample complaints, for a first start
or a trial."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from agencies import demo
from agencies.repository import get_user
from agencies.tables import Complaint
from agencies.users import actor_for
from complaintflow.services import complaints, tasks
from complaintflow.services.workflows import Deployed, upload_and_deploy_in
from complaintflow.wiring import Product
from engine.runner import Actor

REFERENCE_WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"


@dataclass
class DemoSeeded:
    """Every demo username with the password it was just given (``None``: it existed already), and
    each reference workflow file with what became of it."""

    accounts: list[tuple[str, str | None]] = field(default_factory=list)
    workflows: list[tuple[str, Deployed]] = field(default_factory=list)


def seed_demo(product: Product, password: str | None, actor: Actor,
              workflow_dir: Path = REFERENCE_WORKFLOWS) -> DemoSeeded:
    """Create the demo agencies and users that do not exist yet (``password`` for each new user, else a
    random one each) and upload and deploy each reference workflow not uploaded yet — in one
    transaction, so a refused password or a broken workflow leaves nothing half-seeded. Running it
    again changes nothing (the uploads are audited again, as any upload is)."""
    seeded = DemoSeeded()
    with product.uow() as uow:
        seeded.accounts = demo.seed_demo(uow.session, password, now=product.clock.now())
        for path in sorted(workflow_dir.glob("*.bpmn")):
            seeded.workflows.append((path.name, upload_and_deploy_in(uow.session, product, path.read_bytes(),
                                                                     path.name, actor, only_if_new=True)))
        uow.commit()
    return seeded


SAMPLE_RECEIVER = "th-amr.liaison"
_BUSINESS = {"name": "太和县某某电器商行", "region_code": "341222", "address": "安徽省阜阳市太和县城关镇人民路1号"}


_ODR = demo.DEMO_BUSINESSES[0]


def _person(name: str, phone: str, id_number: str) -> dict[str, str]:
    return {"name": name, "phone": phone, "id_number": id_number}


# (days before now it was received, the body, the answers that move it on: task name → form data)
SAMPLES: tuple[tuple[int, dict[str, Any], tuple[tuple[str, dict[str, Any]], ...]], ...] = (
    (0, {"complainant": _person("张三", "13812345678", "341222199903122316"), "category": "quality",
         "subject": "空调安装后不制冷", "amount": "3299.00",
         "description": "11月购买的空调安装后一直不制冷，商家以安装公司责任为由拒绝维修。"}, ()),
    (14, {"complainant": _person("李四", "13900001111", "341222200007184522"), "category": "after_sales",
          "subject": "手机屏幕坏点商家拒绝退换", "amount": "2499.00",
          "description": "购买手机第三天发现屏幕有坏点，商家称不影响使用，拒绝退换。"}, ()),
    (3, {"complainant": _person("王五", "13700002222", "341222199801051035"), "category": "contract",
         "subject": "预付卡门店停业无法退费", "amount": "1800.00",
         "description": "健身房预付卡余额 1800 元，门店突然停业，联系不上经营者。"},
     (("review", {"decision": "accept"}),
      ("arrange_mediation", {"complainant_consent": True, "business_consent": True, "consent_how": "电话征求双方意见",
                             "mediator": "self"}))),
    # against the business enrolled in online dispute resolution: it answers first (th-cxjd.staff)
    (1, {"complainant": _person("赵敏", "13600003333", "341222199608142023"), "category": "quality",
         "business": {"name": _ODR.name, "region_code": _ODR.region_code, "uscc": _ODR.uscc, "address": _ODR.address},
         "subject": "新买的冰箱冷藏室不制冷", "amount": "2699.00",
         "description": "冰箱送货上门后第二天冷藏室就不制冷，要求退货退款。"}, ()),
)


def seed_sample_complaints(product: Product) -> list[str]:
    """A few complaints for a trial, registered by Taihe's liaison: one just received, one whose acceptance
    deadline has passed, one accepted and in mediation by the bureau, one against the business enrolled
    in online dispute resolution, waiting for its answer. Only into a database without
    complaints (a trial's first start), so it never mixes with real work; their tracking numbers."""
    with product.uow() as uow:
        if uow.session.scalar(select(Complaint.id).limit(1)) is not None:
            return []
        user = get_user(uow.session, SAMPLE_RECEIVER)
        if user is None:
            return []
        actor = actor_for(uow.session, user)
    now = product.clock.now()
    numbers = []
    for days_ago, body, steps in SAMPLES:
        received_at = (now - timedelta(days=days_ago)).isoformat()
        payload = {"kind": "complaint", "business": _BUSINESS, "received_at": received_at, **body}
        submitted = complaints.submit(product, payload, actor)
        assert isinstance(submitted, complaints.Submitted)  # no Idempotency-Key: never a replay
        numbers.append(submitted.complaint.tracking_no)
        opened = submitted.opened_tasks
        for name, data in steps:
            task = next(t for t in opened if t.task_name == name)
            tasks.claim_task(product, task.id, actor)
            opened = tasks.complete_task(product, task.id, data, actor).next_tasks
    return numbers
