"""The trial's sample complaints (``complaintflow seed --demo --samples``): four complaints of Taihe at the
stages a newcomer should see — just received, past its acceptance deadline, in mediation, waiting for the
enrolled business's answer — and only into a database without complaints."""

from __future__ import annotations

from complaintflow.services.demo import seed_sample_complaints
from engine.task_inbox import InboxQuery, inbox
from tests.workflows.scenario import Scenario


def test_samples_show_an_inbox_at_three_stages_and_are_added_once(s: Scenario) -> None:
    numbers = seed_sample_complaints(s.product)
    assert len(numbers) == 4 and len(set(numbers)) == 4
    now = s.clock.now()
    with s.product.uow() as uow:
        rows = inbox(uow.session, InboxQuery(agency_code="th-amr", username="th-amr.liaison"), now)
    names = sorted(row.task_name for row in rows)
    assert names == ["mediate", "review", "review"]
    reviews = [row for row in rows if row.task_name == "review"]
    assert sorted(row.due_at is not None and row.due_at < now for row in reviews) == [False, True]  # one overdue
    [mediation] = [complaint for complaint in map(s.complaint, {row.complaint_id for row in rows if row.complaint_id})
                   if s.open_task_names(complaint) == ["mediate"]]
    assert len(s.pending_timers(mediation)) == 1  # the mediation period runs
    with s.product.uow() as uow:
        answering = inbox(uow.session, InboxQuery(agency_code=s.actor("th-cxjd.staff").agency_code or "",
                                                  username="th-cxjd.staff"), now)
    assert [row.task_name for row in answering] == ["business_respond"]

    assert seed_sample_complaints(s.product) == []  # complaints exist: nothing is added
