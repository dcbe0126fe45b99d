"""Designated jurisdiction (指定管辖): a supervising agency assigns a complaint at the acceptance stage to
one of its child regulators.

Who may: a supervisor of the agency that supervises (``parent_id``) the regulator holding the complaint
— the agency of its open regulator-pool tasks, else its competent agency. To whom: an active market
regulator whose parent is the supervisor's agency, other than the one holding it. When: while the
acceptance decision is still open (a regulator task running on the acceptance deadline). The pool's
tasks move to the new regulator with their deadline unchanged; the new regulator's liaisons hear of it
in-app and the complainant is told, in one unit of work with the workflow change and its audit event.
"""

from __future__ import annotations

from dataclasses import dataclass

from agencies.complaints import (
    REGULATOR_POOL,
    DesignationChoice,
    acceptance_tasks,
    designation_choice,
    is_involved,
    refuse_if_archived,
    supervises_holder,
)
from agencies.notices import notify_agency_role, notify_complainant
from agencies.repository import get_agency_by_code, get_complaint
from agencies.tables import Agency
from agencies.vocab import Role
from complaintflow.wiring import Product
from engine.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound
from engine.runner import Actor

MAX_REASON = 500
AUDIT_ACTION = "complaint.designated"
COMPLAINANT_TEMPLATE = "designation"
LIAISON_TEMPLATE = "designated"
NOT_FOUND = "未找到投诉件 / complaint not found"


@dataclass(frozen=True)
class Designation:
    """What a designation did: the complaint, the regulator it left and the one it went to, the tasks moved."""

    complaint_id: int
    from_agency: str
    to_agency: str
    tasks: list[str]


def designate(product: Product, complaint_id: int, agency_code: str, reason: str, actor: Actor) -> Designation:
    """Assign the complaint to the child regulator ``agency_code`` (see the module's rules).

    ``NotFound`` for a complaint the actor's agency neither handles nor supervises; ``Forbidden`` for
    anyone but a supervisor of the supervising agency; ``Conflict`` once the acceptance decision is no
    longer open; ``InvalidInput`` naming ``agency`` or ``reason``."""
    with product.uow() as uow:
        session = uow.session
        complaint = get_complaint(session, complaint_id)
        own = get_agency_by_code(session, actor.agency_code) if actor.agency_code else None
        if complaint is None or own is None:
            raise NotFound(NOT_FOUND)
        choice = designation_choice(session, complaint, actor)
        supervising = choice is not None or supervises_holder(session, complaint, own.id)
        if not supervising and not is_involved(session, complaint.id, own.id):
            raise NotFound(NOT_FOUND)
        refuse_if_archived(complaint)
        if choice is None:
            raise Forbidden("只有上级机关的负责人可以指定管辖 / only a supervisor of the supervising agency may "
                            "designate jurisdiction")
        if not acceptance_tasks(session, complaint) or complaint.process_instance_id is None:
            raise Conflict("该投诉件已不在受理审查阶段，不能指定管辖 / the complaint is no longer awaiting its "
                           "acceptance decision")
        target, text = _checked(choice, agency_code, reason)
        moved = product.runner.redirect_pool(
            session, complaint.process_instance_id, REGULATOR_POOL, target.code, actor, text,
            audit_action=AUDIT_ACTION, details={"by": own.code})
        now = product.clock.now()
        complaint.updated_at = now
        key = f"designation:{complaint.id}:{choice.holder.code}:{target.code}:{now.isoformat()}"
        names = {"agency": own.code, "from_agency": choice.holder.code, "to_agency": target.code, "reason": text}
        notify_agency_role(session, product.outbox, agency_id=target.id, role=Role.LIAISON.value,
                           template=LIAISON_TEMPLATE, key=key + ":liaisons", now=now,
                           context={**names, "complaint_id": complaint.id, "tracking_no": complaint.tracking_no,
                                    "subject": complaint.subject})
        notify_complainant(session, product.outbox, complaint_id=complaint.id, template=COMPLAINANT_TEMPLATE,
                           context=names, key=key + ":complainant", now=now)
        uow.commit()
        return Designation(complaint.id, choice.holder.code, target.code, [t.task_name for t in moved])


def _checked(choice: DesignationChoice, agency_code: str, reason: str) -> tuple[Agency, str]:
    """The target regulator and the reason, or ``InvalidInput`` naming each bad field."""
    errors: list[FieldError] = []
    code = agency_code.strip()
    target = next((a for a in choice.targets if a.code == code), None)
    if not code:
        errors.append(FieldError("agency", "请选择指定承办的市场监管部门 / choose the regulator to designate"))
    elif code == choice.holder.code:
        errors.append(FieldError("agency", f"该投诉件已由{choice.holder.name}办理 / the complaint is with {code} "
                                           "already"))
    elif target is None:
        errors.append(FieldError("agency", f"{code} 不是本机关所属的市场监管部门 / {code} is not a market "
                                           "regulator under your agency"))
    text = reason.strip()
    if not text:
        errors.append(FieldError("reason", "请填写指定管辖的理由 / a reason is required"))
    elif len(text) > MAX_REASON:
        errors.append(FieldError("reason", f"理由不能超过 {MAX_REASON} 个字 / the reason may have at most "
                                           f"{MAX_REASON} characters"))
    if errors or target is None:
        raise InvalidInput(errors)
    return target, text
