"""Restoring stored instances: one shared, pre-wired collaboration spec per version, never a new
instance's; and the per-transaction memo of agencies and complaints."""

from __future__ import annotations

from sqlalchemy import event, update

from agencies.repository import agencies_by_code, get_complaint
from agencies.tables import Agency
from tests.workflows.scenario import CONSENTED, Scenario


def test_restored_instances_share_the_wired_spec_and_new_ones_start_clean(s: Scenario) -> None:
    first, second = s.submit(), s.submit()
    runner = s.product.runner
    with s.product.uow() as uow:
        [a] = s.instances(first)
        [b] = s.instances(second)
        restored_a, restored_b = runner.load_workflow(uow.session, a.id), runner.load_workflow(uow.session, b.id)
        bundle = runner.specs.get(uow.session, a.spec_version_id)
    assert restored_a.spec is restored_b.spec is bundle.resumable_top_spec  # no copy per load
    pools = set(bundle.top_spec.start.trigger_specs)
    assert pools, "the reference collaboration has message-started pools"
    wired = {spec.name for spec in bundle.resumable_top_spec.start.outputs}
    assert pools <= wired
    assert not pools & {spec.name for spec in bundle.top_spec.start.outputs}  # the pristine spec stays unwired

    third = s.submit()  # a new instance after those loads starts its own pool only
    assert s.open_task_names(third) == ["review"]
    s.do("th-amr", "review", {"decision": "accept"}, third)
    s.do("th-amr", "arrange_mediation",
         {**CONSENTED, "mediator": "consumer_association", "mediator_agency": "th-cca"}, third)
    assert s.open_task_names(third) == ["association_mediate"]  # a message started a pool on the shared spec
    assert s.open_task_names(first) == ["review"]


def test_agencies_and_complaints_are_read_once_per_transaction(s: Scenario) -> None:
    complaint = s.submit()
    statements: list[str] = []
    engine = s.product.engine
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        with s.product.uow() as uow:
            found = agencies_by_code(uow.session, ["th-amr", "th-cca", "nowhere"])
            assert set(found) == {"th-amr", "th-cca"}
            assert agencies_by_code(uow.session, ["th-cca", "th-amr"]) == {k: found[k] for k in ("th-cca", "th-amr")}
            assert get_complaint(uow.session, complaint.id) is get_complaint(uow.session, complaint.id)
            reads = [x for x in statements if "FROM agencies" in x or "FROM complaints" in x]
            assert len(reads) == 2, "\n----\n".join(reads)
            uow.session.execute(update(Agency).where(Agency.code == "th-cca").values(name="太和县消保委"))
            uow.commit()
            # a new transaction reads again and sees the change
            assert agencies_by_code(uow.session, ["th-cca"])["th-cca"].name == "太和县消保委"
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert len([x for x in statements if "FROM agencies" in x]) == 2
