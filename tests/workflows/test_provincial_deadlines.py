"""A province's own deadline rule applies to its agencies by itself: the reference workflow names
``association_acceptance``, a consumer association in Zhejiang (region prefix 33) gets Zhejiang's 5
working days, one in Anhui the national 7. The task keeps the rule applied through a suspension and
a restart, and people read the plain rule's name. Through the service layer, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import timedelta

from agencies.labels import deadline_label
from agencies.public_status import public_view
from complaintflow.services.accounts import NewAgency, NewUser, add_agency, add_user
from complaintflow.services.tasks import resume_task, suspend_task
from engine.db.tables import OpenTask
from tests.workflows.scenario import Scenario
from web.workflow_editing import rule_choices

XIHU = "330106"  # 杭州市西湖区, Zhejiang


def add_zhejiang_association(s: Scenario) -> None:
    """A consumer association in Hangzhou, with a liaison (as an administrator adds them)."""
    admin = s.actor("admin")
    add_agency(s.product, NewAgency(code="xh-cca", name="杭州市西湖区消费者权益保护委员会", short_name="西湖消保委",
                                    kind="consumer_association", region_code=XIHU), admin)
    add_user(s.product, NewUser(username="xh-cca.liaison", display_name="西湖消保委联络员",
                                password="Qiantang-River-Tide-2026!", agency="xh-cca", roles=["liaison"]), admin)


def reread(s: Scenario, task: OpenTask) -> OpenTask:
    with s.product.uow() as uow:
        row = uow.session.get(OpenTask, task.id)
        assert row is not None
        return row


def test_a_zhejiang_association_gets_zhejiangs_five_working_days(s: Scenario) -> None:
    add_zhejiang_association(s)
    c = s.submit(received_by="xh-cca")  # received Wed 2026-11-18
    review = s.task("xh-cca", "association_review", c)
    assert review.deadline_rule == "association_acceptance_33"
    assert review.due_at is not None and review.due_at.isoformat() == "2026-11-25T23:59:59+08:00"  # Thu…Wed: 5


def test_an_anhui_association_gets_the_national_seven_working_days(s: Scenario) -> None:
    c = s.submit(received_by="th-cca")  # Taihe, 341222: Anhui has no rule of its own
    review = s.task("th-cca", "association_review", c)
    assert review.deadline_rule == "association_acceptance"
    assert review.due_at is not None and review.due_at.isoformat() == "2026-11-27T23:59:59+08:00"


def test_a_rule_without_a_provincial_version_is_applied_as_named(s: Scenario) -> None:
    """Only rules with a provincial version change: the regulators' ``acceptance`` has none."""
    c = s.submit()
    review = s.task("th-amr", "review", c)
    assert review.deadline_rule == "acceptance"


def test_a_suspended_zhejiang_task_resumes_on_zhejiangs_rule_after_a_restart(s: Scenario) -> None:
    add_zhejiang_association(s)
    c = s.submit(received_by="xh-cca")
    review = s.task("xh-cca", "association_review", c)
    liaison = s.actor("xh-cca.liaison")
    s.clock.set(s.clock.now() + timedelta(days=1))  # Thu 19th: sent for appraisal
    suspend_task(s.product, review.id, liaison, "商品送检测机构鉴定")
    s.restart()
    s.clock.set(s.clock.now() + timedelta(days=4))  # Mon 23rd: report back; Fri 20th and Mon 23rd not counted
    resumed = resume_task(s.product, review.id, s.actor("xh-cca.liaison"), "鉴定报告已出具")
    assert resumed.deadline_rule == "association_acceptance_33"
    # 5 working days, moved by the 2 working days in (Thu 19th, Mon 23rd]: Wed 25th → Fri 27th
    assert resumed.due_at is not None and resumed.due_at.isoformat() == "2026-11-27T23:59:59+08:00"
    stored = reread(s, review)
    assert (stored.deadline_rule, stored.due_at) == ("association_acceptance_33", resumed.due_at)
    assert stored.suspended_at is None  # (under the national 7 days it would have moved to Tue 2026-12-01)


def test_people_read_the_plain_rules_name_for_a_provincial_rule(s: Scenario) -> None:
    add_zhejiang_association(s)
    c = s.submit(received_by="xh-cca")
    review = s.task("xh-cca", "association_review", c)
    assert deadline_label(review.deadline_rule) == deadline_label("association_acceptance") == "受理期限"
    with s.product.reader() as uow:
        complaint = s.complaint(c.id)
        view = public_view(uow.session, complaint, s.product.specs)
        choices = {choice["name"]: choice["label"] for choice in rule_choices(uow.session)}
    assert view.status == "pending_acceptance" and view.status_label == "待受理"
    assert view.next_step.startswith("承办单位将于 2026年11月25日 前作出是否受理的决定")
    assert view.next_due_at == review.due_at
    assert choices["association_acceptance"] == "消协受理期限（7 个工作日）"
    assert choices["association_acceptance_33"] == "消协受理期限（浙江省适用，5 个工作日）"
