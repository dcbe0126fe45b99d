"""Case numbers per agency and year, unique and gap-free under concurrency, on both backends."""

from __future__ import annotations

import threading
from datetime import datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from agencies.cases import create_case, next_case_no
from agencies.demo import seed_demo
from agencies.tables import Case, CaseSequence
from engine.clock import SHANGHAI
from tests.agencies.factories import NOW, involved_agencies, seeded_agency


@pytest.fixture
def seeded(session_factory: sessionmaker[Session]) -> sessionmaker[Session]:
    with session_factory() as session, session.begin():
        seed_demo(session, "Huaihe-Demo-2026!", now=NOW)
    return session_factory


def test_sequence_per_agency_and_year(seeded: sessionmaker[Session]) -> None:
    with seeded() as session, session.begin():
        taihe = seeded_agency(session, "th-amr")
        linquan = seeded_agency(session, "lq-amr")
        assert next_case_no(session, taihe, 2026) == (1, "太市监诉转案〔2026〕1号")
        assert next_case_no(session, taihe, 2026) == (2, "太市监诉转案〔2026〕2号")
        assert next_case_no(session, linquan, 2026) == (1, "临市监诉转案〔2026〕1号")
        assert next_case_no(session, taihe, 2027) == (1, "太市监诉转案〔2027〕1号")
        assert next_case_no(session, taihe, 2026) == (3, "太市监诉转案〔2026〕3号")
    with seeded() as session:
        rows = {(row.agency_id, row.year): row.last_seq for row in session.scalars(select(CaseSequence))}
        assert sorted(rows.values()) == [1, 1, 3]


def test_rolled_back_number_is_handed_out_again(seeded: sessionmaker[Session]) -> None:
    with seeded() as session, session.begin():
        next_case_no(session, seeded_agency(session, "th-amr"), 2026)
    with seeded() as session:
        session.begin()
        assert next_case_no(session, seeded_agency(session, "th-amr"), 2026)[0] == 2
        session.rollback()
    with seeded() as session, session.begin():
        assert next_case_no(session, seeded_agency(session, "th-amr"), 2026)[0] == 2


def test_two_threads_get_distinct_consecutive_numbers(seeded: sessionmaker[Session]) -> None:
    with seeded() as session:
        taihe_id = seeded_agency(session, "th-amr").id
    per_thread = 20
    barrier = threading.Barrier(2)
    results: dict[str, list[int]] = {}
    failures: list[BaseException] = []

    def allocate(name: str) -> None:
        taken: list[int] = []
        try:
            barrier.wait(timeout=30)
            for _ in range(per_thread):
                with seeded() as session, session.begin():  # one unit of work per number
                    agency = seeded_agency(session, "th-amr")
                    assert agency.id == taihe_id
                    taken.append(next_case_no(session, agency, 2026)[0])
        except BaseException as exc:  # surfaced in the main thread
            failures.append(exc)
        results[name] = taken

    threads = [threading.Thread(target=allocate, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures
    assert sorted(results["a"] + results["b"]) == list(range(1, 2 * per_thread + 1))
    assert results["a"] == sorted(results["a"]) and results["b"] == sorted(results["b"])


def test_create_case(seeded: sessionmaker[Session]) -> None:
    filed = datetime(2026, 12, 31, 23, 30, tzinfo=SHANGHAI)
    with seeded() as session, session.begin():
        taihe = seeded_agency(session, "th-amr")
        first = create_case(session, agency=taihe, now=filed, process_instance_id=42)
        second = create_case(session, agency=taihe, now=datetime(2027, 1, 1, 0, 5, tzinfo=SHANGHAI))
        ids = (first.id, second.id)
    with seeded() as session:
        one, two = (session.get(Case, case_id) for case_id in ids)
        assert one is not None and two is not None
        assert (one.case_no, one.year, one.seq, one.status) == ("太市监诉转案〔2026〕1号", 2026, 1, "filed")
        assert one.filed_at == filed and one.decided_at is None and one.decision is None
        assert one.process_instance_id == 42 and one.complaint_id is None
        assert (two.case_no, two.year) == ("太市监诉转案〔2027〕1号", 2027)  # Shanghai year, not UTC


def test_case_from_a_complaint_involves_the_agency(seeded: sessionmaker[Session]) -> None:
    from agencies.complaints import register_complaint
    from agencies.intake import parse_complaint
    from agencies.tracking import derive_tracking_key
    from tests.agencies.factories import complaint_payload

    with seeded() as session, session.begin():
        association = seeded_agency(session, "th-cca")
        linquan = seeded_agency(session, "lq-amr")
        complaint, _ = register_complaint(
            session,
            parse_complaint(complaint_payload(), NOW),
            received_by=association,
            competent=None,
            now=NOW,
            tracking_key=derive_tracking_key("k"),
        )
        case = create_case(session, agency=linquan, now=NOW, complaint_id=complaint.id)
        assert case.complaint_id == complaint.id
        assert involved_agencies(session, complaint) == {"th-cca": "receiving", "lq-amr": "enforcement"}
