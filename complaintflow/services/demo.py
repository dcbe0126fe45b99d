"""The demo: its agencies and users, and the reference workflows, for a first start or a trial."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from agencies import demo
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
