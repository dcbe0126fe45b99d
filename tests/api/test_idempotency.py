"""A submission repeated is answered, not stored twice: the ``Idempotency-Key`` header (staff and public)
replays the first answer, and an identical public complaint within a day is refused with the earlier
tracking number. Two identical posts racing on PostgreSQL still store one complaint."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from agencies.submission import Submitted
from agencies.submission_keys import DUPLICATE_WINDOW, IDEMPOTENCY_WINDOW, DuplicateSubmission, SubmissionGuard
from agencies.tables import Complaint, SubmissionKey
from complaintflow.jobs import run_sweep
from complaintflow.services import complaints as intake
from engine.runner import Actor
from tests.api.conftest import Api
from tests.workflows.scenario import Scenario, complaint_body

PUBLIC = "/api/v1/public/complaints"
STAFF = "/api/v1/complaints"
# A public complaint to a consumer association needs no ID number; the public form routes by region.
PUBLIC_BODY = complaint_body()


def count(scenario: Scenario, table: Any = Complaint) -> int:
    with scenario.product.uow() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(table)) or 0)


def stored_answers(scenario: Scenario) -> list[dict[str, Any]]:
    with scenario.product.uow() as uow:
        return [dict(r) for r in uow.session.scalars(select(SubmissionKey.response))]


def test_a_repeated_staff_key_gets_the_first_answer_again(api: Api) -> None:
    headers = {"Idempotency-Key": "2f8c6a1e-retry-1"}
    first = api.post(STAFF, "th-amr.liaison", json=complaint_body(), headers=headers)
    assert first.status_code == 201, first.text
    # the same body sent with other key order and spacing is the same body
    again = api.post(STAFF, "th-amr.liaison", headers={**headers, "Content-Type": "application/json"},
                     content=json.dumps(dict(reversed(complaint_body().items())), indent=2).encode())
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json() and first.json()["next_tasks"]
    assert "Idempotent-Replayed" not in first.headers
    assert count(api.scenario) == 1


def test_a_key_used_for_another_body_is_refused(api: Api) -> None:
    headers = {"Idempotency-Key": "k-1"}
    assert api.post(STAFF, "th-amr.liaison", json=complaint_body(), headers=headers).status_code == 201
    other = api.post(STAFF, "th-amr.liaison", json=complaint_body(subject="另一件事"), headers=headers)
    assert other.status_code == 422
    [error] = other.json()["detail"]
    assert error["field"] == "Idempotency-Key" and "已用于另一份内容不同的提交" in error["message"]
    assert count(api.scenario) == 1


def test_staff_keys_belong_to_their_user(api: Api) -> None:
    headers = {"Idempotency-Key": "same-key"}
    mine = api.post(STAFF, "th-amr.liaison", json=complaint_body(), headers=headers)
    theirs = api.post(STAFF, "th-amr.supervisor", json=complaint_body(), headers=headers)
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"]
    assert count(api.scenario) == 2


def test_staff_without_a_key_store_nothing_extra(api: Api) -> None:
    api.submit()
    api.submit()  # staff may register the same content twice (two complainants' calls, say)
    assert count(api.scenario) == 2 and count(api.scenario, SubmissionKey) == 0


@pytest.mark.parametrize("key", [b"", b" ", b" padded", b"x" * 101, "密钥".encode(), "clé".encode("latin-1"),
                                 b"tab\tinside"])
def test_malformed_keys_are_refused(api: Api, key: bytes) -> None:
    for response in (api.post(STAFF, "th-amr.liaison", json=complaint_body(), headers={"Idempotency-Key": key}),
                     api.client.post(PUBLIC, json=PUBLIC_BODY, headers={"Idempotency-Key": key})):
        assert response.status_code == 422, response.text
        assert response.json()["detail"] == [{"field": "Idempotency-Key", "message": (
            "Idempotency-Key 须为 1 至 100 个可打印 ASCII 字符，首尾不能是空格 / "
            "must be 1–100 printable ASCII characters, no space at either end")}]
    assert count(api.scenario) == 0


def test_a_repeated_public_key_gets_the_tracking_code_again(api: Api) -> None:
    headers = {"Idempotency-Key": "x" * 100}
    first = api.client.post(PUBLIC, json=PUBLIC_BODY, headers=headers)
    again = api.client.post(PUBLIC, json=PUBLIC_BODY, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert set(first.json()) == {"id", "tracking_no", "tracking_code", "status", "process_instance_id"}
    assert count(api.scenario) == 1
    # the key is stored hashed; the answer (with its tracking code) only until it expires
    with api.scenario.product.uow() as uow:
        keys = list(uow.session.scalars(select(SubmissionKey.key)))
    assert "x" * 100 not in "".join(keys) and all(len(k) == 66 for k in keys)


def test_an_identical_public_complaint_is_refused_with_the_earlier_tracking_number(api: Api) -> None:
    first = api.client.post(PUBLIC, json=PUBLIC_BODY)
    assert first.status_code == 201, first.text
    tracking_no, code = first.json()["tracking_no"], first.json()["tracking_code"]
    respaced = complaint_body(subject=" 空调制冷故障 ", description="购买的空调一周后不制冷，  商家拒绝维修。",
                              complainant={**PUBLIC_BODY["complainant"], "phone": "138-1234-5678"})
    for body, key in ((PUBLIC_BODY, None), (respaced, None), (PUBLIC_BODY, "a-new-key-per-click")):
        repeat = api.client.post(PUBLIC, json=body, headers={"Idempotency-Key": key} if key else {})
        assert repeat.status_code == 409, repeat.text
        detail = repeat.json()["detail"]
        assert detail.startswith("相同内容的投诉已经收到") and tracking_no in detail and code not in detail
    assert count(api.scenario) == 1
    assert all("tracking_code" not in answer for answer in stored_answers(api.scenario))
    other = api.client.post(PUBLIC, json=complaint_body(description="另一台空调也坏了"))
    assert other.status_code == 201 and count(api.scenario) == 2


def test_after_the_window_the_same_complaint_is_new_and_the_old_answers_are_purged(api: Api) -> None:
    assert DUPLICATE_WINDOW == IDEMPOTENCY_WINDOW == timedelta(hours=24)
    headers = {"Idempotency-Key": "morning-retry"}
    first = api.client.post(PUBLIC, json=PUBLIC_BODY, headers=headers).json()
    assert any(a.get("tracking_code") == first["tracking_code"] for a in stored_answers(api.scenario))
    start = api.scenario.clock.now()
    api.travel(start + timedelta(hours=23, minutes=59))
    assert api.client.post(PUBLIC, json=PUBLIC_BODY).status_code == 409
    assert run_sweep(api.scenario.product).submission_keys_purged == 0
    api.travel(start + timedelta(hours=24))
    summary = run_sweep(api.scenario.product)
    assert summary.submission_keys_purged == 2  # the key's answer and the content's fingerprint
    assert stored_answers(api.scenario) == []  # no tracking code is kept beyond the window
    later = api.client.post(PUBLIC, json=PUBLIC_BODY, headers=headers)
    assert later.status_code == 201 and later.json()["id"] != first["id"]
    assert count(api.scenario) == 2


def test_an_expired_key_not_yet_purged_is_not_answered_from(api: Api) -> None:
    headers = {"Idempotency-Key": "late-retry"}
    first = api.post(STAFF, "th-amr.liaison", json=complaint_body(), headers=headers).json()
    api.travel(api.scenario.clock.now() + IDEMPOTENCY_WINDOW + timedelta(seconds=1))
    later = api.post(STAFF, "th-amr.liaison", json=complaint_body(), headers=headers)
    assert later.status_code == 201 and later.json()["id"] != first["id"]
    assert "Idempotent-Replayed" not in later.headers
    assert count(api.scenario, SubmissionKey) == 1  # the expired row was replaced


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # truly concurrent transactions
@pytest.mark.parametrize(("username", "key"), [(None, None), (None, "race-1"), ("th-amr.liaison", "race-2")])
def test_two_identical_posts_racing_store_one_complaint(s: Scenario, monkeypatch: pytest.MonkeyPatch,
                                                        username: str | None, key: str | None) -> None:
    actor: Actor | None = s.actor(username) if username else None
    both_registered = threading.Barrier(2, timeout=60)
    remember = SubmissionGuard.remember

    def remember_together(self: SubmissionGuard, *args: Any, **kwargs: Any) -> None:
        both_registered.wait()  # each has looked, found no key and registered its complaint: now both store
        remember(self, *args, **kwargs)

    monkeypatch.setattr(SubmissionGuard, "remember", remember_together)
    outcomes: list[object] = []

    def post() -> None:
        try:
            outcomes.append(intake.submit(s.product, complaint_body(), actor, idempotency_key=key))
        except Exception as exc:  # the assertion below names whatever it was
            outcomes.append(exc)

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    [winner] = [o for o in outcomes if isinstance(o, Submitted)]
    [loser] = [o for o in outcomes if o is not winner]
    if key is None:
        assert isinstance(loser, DuplicateSubmission) and loser.tracking_no == winner.complaint.tracking_no
    else:
        assert isinstance(loser, intake.Replayed), loser
        assert (loser.response["id"], loser.response["tracking_no"], loser.response["tracking_code"]) == (
            winner.complaint.id, winner.complaint.tracking_no, winner.tracking_code)
    assert count(s) == 1
