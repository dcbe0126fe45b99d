"""The complainant answers a business's settlement offer (online dispute resolution).

One transaction: the number and code are checked, the offer must still await an answer, the answer is
audited and delivered to the waiting process, whose transition (the complaint settled, or passed on to
the regulator's acceptance review, with both parties told) commits with it.
"""

from __future__ import annotations

from agencies.complaints import find_by_tracking, refuse_if_archived
from agencies.odr import DECISION_MESSAGE, decision_payload, pending_offer
from agencies.tables import Complaint
from complaintflow.wiring import Product
from engine import audit
from engine.errors import Conflict, NotFound
from engine.runner import Actor

PUBLIC = Actor("public")


def answer_offer(product: Product, tracking_no: str, code: str, accept: bool) -> Complaint:
    """Accept or decline the pending offer; 404 for a wrong number or code (alike), 409 when no offer
    awaits an answer (none made, answered already, or the negotiation period has ended)."""
    with product.uow() as uow:
        session = uow.session
        complaint = find_by_tracking(session, tracking_no, code, tracking_key=product.tracking_key)
        if complaint is None:
            raise NotFound("未找到 / not found")
        refuse_if_archived(complaint)
        if pending_offer(session, complaint) is None:
            raise Conflict("当前没有待您确认的和解方案 / no settlement offer awaits your answer")
        now = product.clock.now()
        audit.record(session, actor=PUBLIC.username, action="complaint.offer_answered", at=now, agency_code=None,
                     details={"accept": accept}, instance_id=complaint.process_instance_id,
                     complaint_id=complaint.id)
        payload, correlation = decision_payload(complaint, accept)
        if not product.runner.deliver(session, DECISION_MESSAGE, payload, correlation, PUBLIC).startswith("instance:"):
            raise Conflict("当前没有待您确认的和解方案 / no settlement offer awaits your answer")  # rolled back
        uow.commit()
        session.refresh(complaint)
        return complaint
