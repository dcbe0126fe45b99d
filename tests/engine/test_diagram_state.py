"""Where an instance stands on its diagram, on SQLite and PostgreSQL, through the reference workflow: the
path taken, the open tasks and waiting events, a stopped clock, and the running mediation timer with its
due date; nothing of a pool itself, nothing after the process ended."""

from __future__ import annotations

from datetime import timedelta

from complaintflow.jobs import run_sweep
from complaintflow.services.tasks import suspend_task
from engine.diagram_state import DiagramState, diagram_state, running_timers
from tests.workflows.scenario import CONSENTED, Scenario

POOLS = {"market_regulator", "consumer_association", "mediation_committee"}
MEDIATION_DUE = "2027-01-18T23:59:59+08:00"  # accepted Wed 2026-11-18 + 60 days = Sun 17 Jan → Mon 18 Jan


def state_of(s: Scenario, complaint_id: int) -> DiagramState:
    instance_id = s.complaint(complaint_id).process_instance_id
    assert instance_id is not None
    with s.product.reader() as uow:
        return diagram_state(uow.session, s.product.specs, instance_id)


def test_a_new_complaint_waits_at_review_after_registration(s: Scenario) -> None:
    c = s.submit()
    state = state_of(s, c.id)
    assert state.current == ("review",)
    assert state.completed[:2] == ("start_regulator", "register") and "review" not in state.completed
    assert state.suspended == () and state.timers == ()
    assert (state.spec_key, state.spec_version) == ("complaint_handling", 1)
    assert 'id="review"' in state.bpmn_xml and "bpmndi:BPMNShape" in state.bpmn_xml
    assert POOLS.isdisjoint(state.completed + state.current)


def test_mediation_by_the_regulator_itself_runs_its_time_limit(s: Scenario) -> None:
    c = s.submit()
    s.do("th-amr", "review", {"decision": "accept"}, c)
    s.do("th-amr", "arrange_mediation", {**CONSENTED, "mediator": "self"}, c)
    s.restart()  # a fresh process reads the stored state
    state = state_of(s, c.id)
    assert set(state.current) == {"mediate", "mediate_deadline"}  # the task and its boundary timer
    assert {"review", "accept_complaint", "arrange_mediation", "mediator_choice"} <= set(state.completed)
    [timer] = state.timers
    assert (timer.element_id, timer.rule, timer.name) == ("mediate_deadline", "mediation", "调解期限届满")
    assert timer.due_at.isoformat() == MEDIATION_DUE
    assert [timer.due_at] == s.pending_timers(c)  # the instant the sweep will fire it at
    with s.product.reader() as uow:
        assert running_timers(uow.session, s.product.specs, state.instance_id) == [timer]


def test_mediation_entrusted_to_the_consumer_association_shows_both_pools(s: Scenario) -> None:
    c = s.submit()
    s.do("th-amr", "review", {"decision": "accept"}, c)
    s.do("th-amr", "arrange_mediation",
         {**CONSENTED, "mediator": "consumer_association", "mediator_agency": "th-cca"}, c)
    state = state_of(s, c.id)
    # the regulator waits for the result; the association mediates under the same time limit
    assert set(state.current) == {"catch_association_result", "association_mediate", "association_mediate_deadline"}
    assert {"throw_entrust_association", "start_association", "record_request"} <= set(state.completed)
    assert POOLS.isdisjoint(state.completed + state.current)
    [timer] = state.timers
    assert (timer.element_id, timer.rule, timer.due_at.isoformat()) == (
        "association_mediate_deadline", "mediation", MEDIATION_DUE)


def test_a_task_whose_clock_is_stopped_is_current_and_suspended(s: Scenario) -> None:
    c = s.submit()
    review = s.task("th-amr", "review", c)
    suspend_task(s.product, review.id, s.actor("th-amr.liaison"), "等待检测报告")
    state = state_of(s, c.id)
    assert state.current == ("review",) and state.suspended == ("review",)


def test_when_the_time_limit_passes_the_timer_completes_and_mediation_is_cut_short(s: Scenario) -> None:
    c = s.submit()
    s.do("th-amr", "review", {"decision": "accept"}, c)
    s.do("th-amr", "arrange_mediation", {**CONSENTED, "mediator": "self"}, c)
    [due] = s.pending_timers(c)
    s.clock.set(due + timedelta(minutes=1))
    assert run_sweep(s.product).timers.timers_fired == 1
    state = state_of(s, c.id)
    assert state.current == ("close",) and state.timers == ()
    assert {"mediate_deadline", "mediate_timed_out"} <= set(state.completed)
    assert "mediate" not in state.completed  # interrupted, not done


def test_a_finished_process_has_only_a_path(s: Scenario) -> None:
    c = s.submit()
    s.do("th-amr", "review", {"decision": "reject", "reason": "不属于本部门职责范围",
                                         "ground": "not_competent", "violation_found": False}, c)
    state = state_of(s, c.id)
    assert state.current == () and state.suspended == () and state.timers == ()
    assert {"review", "review_decision", "end_rejected"} <= set(state.completed)
    assert "arrange_mediation" not in state.completed
