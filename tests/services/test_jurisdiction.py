"""Designated jurisdiction (指定管辖) and the platform's regulator, through the service layer on both backends:
fy-amr supervises th-amr and lq-amr; its supervisor moves a complaint waiting for th-amr's acceptance
decision to lq-amr, which decides it, after a restart of the product too."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from agencies.complaints import platform_regulator
from agencies.repository import get_complaint
from agencies.tables import Agency, ComplaintAgency
from complaintflow.services.jurisdiction import designate
from engine.db.tables import AuditEvent, OpenTask
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from notifications.tables import InAppNotice
from tests.workflows.scenario import Scenario

LINQUAN_PLATFORM = "91341221MA2N0Y7K32"  # registered in 临泉县 (341221)


def _review(s: Scenario, agency: str, complaint_id: int) -> OpenTask:
    complaint = s.complaint(complaint_id)
    return s.task(agency, "review", complaint)


def test_a_supervisor_designates_a_child_regulator_and_it_decides_after_a_restart(s: Scenario) -> None:
    complaint = s.submit()
    before = _review(s, "th-amr", complaint.id)
    liaison = s.actor("th-amr.liaison")
    with s.product.uow() as uow:
        s.product.runner.tasks.claim(uow.session, before.id, liaison)
        uow.commit()

    done = designate(s.product, complaint.id, "lq-amr", "经营者实际经营地在临泉县", s.actor("fy-amr.supervisor"))

    assert (done.from_agency, done.to_agency, done.tasks) == ("th-amr", "lq-amr", ["review"])
    assert s.inbox("th-amr", complaint) == []
    moved = _review(s, "lq-amr", complaint.id)
    # the same task, its deadline kept, its claim released
    assert (moved.id, moved.due_at, moved.deadline_start, moved.assignee) == (before.id, before.due_at,
                                                                               before.deadline_start, None)
    with s.product.uow() as uow:
        session = uow.session
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "complaint.designated")).one()
        assert (event.actor, event.agency_code, event.complaint_id) == ("fy-amr.supervisor", "fy-amr", complaint.id)
        assert {k: event.details[k] for k in ("from", "to", "reason", "released")} == {
            "from": "th-amr", "to": "lq-amr", "reason": "经营者实际经营地在临泉县",
            "released": {"review": "th-amr.liaison"}}
        codes = {a.id: a.code for a in session.scalars(select(Agency))}
        roles = {codes[row.agency_id]: row.role for row in session.scalars(
            select(ComplaintAgency).where(ComplaintAgency.complaint_id == complaint.id))}
        assert roles == {"th-amr": "transferred_from", "lq-amr": "competent"}
        row = get_complaint(session, complaint.id)
        assert row is not None and codes[row.competent_agency_id or 0] == "lq-amr"
        lq_liaison = session.scalars(select(Agency.id).where(Agency.code == "lq-amr")).one()
        notices = session.scalars(select(InAppNotice).where(InAppNotice.complaint_id == complaint.id)).all()
        assert [n.template for n in notices] == ["designated"]
        assert "临泉县市场监督管理局" in notices[0].body and "阜阳市市场监督管理局" in notices[0].body
        assert lq_liaison
    assert "designation" in s.notices(complaint)

    s.restart()  # the redirected state is read back from the database by a fresh product
    result = s.do("lq-amr", "review", {"decision": "accept"}, complaint)
    assert [t.task_name for t in result.next_tasks] == ["arrange_mediation"]
    assert s.task("lq-amr", "arrange_mediation", complaint).agency_code == "lq-amr"
    assert s.complaint(complaint.id).status == "accepted"
    assert "acceptance" in s.notices(complaint)


def test_only_a_supervisor_of_the_parent_agency_may_designate(s: Scenario) -> None:
    complaint = s.submit()
    with pytest.raises(Forbidden):
        designate(s.product, complaint.id, "lq-amr", "理由", s.actor("fy-amr.liaison"))
    with pytest.raises(Forbidden):  # the holder's own supervisor is not its parent's
        designate(s.product, complaint.id, "lq-amr", "理由", s.actor("th-amr.supervisor"))
    with pytest.raises(NotFound):  # neither involved nor supervising: as if it did not exist
        designate(s.product, complaint.id, "th-amr", "理由", s.actor("lq-amr.supervisor"))
    with pytest.raises(NotFound):
        designate(s.product, complaint.id, "lq-amr", "理由", s.actor("fy-cca.supervisor"))
    assert _review(s, "th-amr", complaint.id).agency_code == "th-amr"


def test_bad_targets_and_reasons_are_named(s: Scenario) -> None:
    complaint = s.submit()
    supervisor = s.actor("fy-amr.supervisor")
    cases = [("th-amr", "理由", "agency"), ("th-cca", "理由", "agency"), ("fy-amr", "理由", "agency"),
             ("nowhere", "理由", "agency"), ("lq-amr", "  ", "reason"), ("lq-amr", "长" * 501, "reason")]
    for code, reason, field in cases:
        with pytest.raises(InvalidInput) as refused:
            designate(s.product, complaint.id, code, reason, supervisor)
        assert [e.field for e in refused.value.errors] == [field], code
    assert _review(s, "th-amr", complaint.id).agency_code == "th-amr"


def test_no_designation_after_the_acceptance_decision(s: Scenario) -> None:
    complaint = s.submit()
    s.do("th-amr", "review", {"decision": "accept"}, complaint)
    with pytest.raises(Conflict):
        designate(s.product, complaint.id, "lq-amr", "理由", s.actor("fy-amr.supervisor"))
    assert s.task("th-amr", "arrange_mediation", complaint).agency_code == "th-amr"


def test_the_platform_regulator_comes_from_the_operators_registration_region(s: Scenario) -> None:
    business = {"name": "某网店", "region_code": "341222", "platform": "某电商平台", "platform_uscc": LINQUAN_PLATFORM}
    complaint = s.submit(business=business)
    plain = s.submit()
    with s.product.uow() as uow:
        row = get_complaint(uow.session, complaint.id)
        assert row is not None and row.business_platform_uscc == LINQUAN_PLATFORM
        regulator = platform_regulator(uow.session, row)
        assert regulator is not None and regulator.code == "lq-amr"
        other = get_complaint(uow.session, plain.id)
        assert other is not None and platform_regulator(uow.session, other) is None
