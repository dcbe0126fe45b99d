"""Registering a complaint and looking it up by tracking number and code, on both backends."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from agencies.complaints import find_by_tracking, register_complaint
from agencies.demo import seed_demo
from agencies.intake import parse_complaint
from agencies.repository import competent_regulator, involve
from agencies.tables import Complaint
from agencies.tracking import derive_tracking_key, normalize_tracking_no
from engine.clock import SHANGHAI
from engine.errors import NotFound
from tests.agencies.factories import (
    NOW,
    SHOP_USCC,
    TAIHE_ID,
    complaint_payload,
    involved_agencies,
    seeded_agency,
)
from web.queries import visible_complaint

KEY = derive_tracking_key("test-secret")


@pytest.fixture
def seeded(session_factory: sessionmaker[Session]) -> sessionmaker[Session]:
    with session_factory() as session, session.begin():
        seed_demo(session, "Huaihe-Demo-2026!", now=NOW)
    return session_factory


def test_register_round_trip(seeded: sessionmaker[Session]) -> None:
    data = parse_complaint(complaint_payload(), NOW)
    with seeded() as session, session.begin():
        receiving = seeded_agency(session, "th-cca")
        competent = competent_regulator(session, data.business.region_code)
        assert competent is not None and competent.code == "th-amr"
        complaint, code = register_complaint(
            session, data, received_by=receiving, competent=competent, now=NOW, tracking_key=KEY
        )
        complaint_id, tracking_no = complaint.id, complaint.tracking_no
        ids = {"th-cca": receiving.id, "th-amr": competent.id}
        linquan_id = seeded_agency(session, "lq-amr").id
    assert normalize_tracking_no(tracking_no) == tracking_no and tracking_no.startswith("TS20260506")
    with seeded() as session:
        row = session.get(Complaint, complaint_id)
        assert row is not None
        assert code not in row.tracking_code_hash
        assert (row.kind, row.status, row.category) == ("complaint", "registered", "quality")
        assert row.received_at == datetime(2026, 5, 6, 9, 15, tzinfo=SHANGHAI)
        assert row.received_by_id == ids["th-cca"] and row.competent_agency_id == ids["th-amr"]
        assert (row.complainant_name, row.complainant_phone, row.complainant_id_number, row.complainant_email) == (
            "张三",
            "13812345678",
            TAIHE_ID,
            "zs@example.cn",
        )
        assert (row.business_name, row.business_region_code, row.business_uscc, row.business_platform) == (
            "太和县某某电器商行",
            "341222",
            SHOP_USCC,
            None,
        )
        assert row.business_address == "安徽省阜阳市太和县城关镇人民路88号"
        assert row.subject == "空调安装后不制冷" and row.description.startswith("2026年5月1日")
        assert row.amount == Decimal("2999.00") and row.occurred_on == date(2026, 5, 1)
        assert row.created_at == NOW == row.updated_at and row.process_instance_id is None
        assert involved_agencies(session, row) == {"th-cca": "receiving", "th-amr": "competent"}
        assert visible_complaint(session, complaint_id, ids["th-amr"]).id == complaint_id
        with pytest.raises(NotFound):  # an agency not involved does not see the complaint
            visible_complaint(session, complaint_id, linquan_id)


def test_agency_both_receiving_and_competent_is_involved_once(seeded: sessionmaker[Session]) -> None:
    with seeded() as session, session.begin():
        taihe = seeded_agency(session, "th-amr")
        complaint, _ = register_complaint(
            session,
            parse_complaint(complaint_payload(), NOW),
            received_by=taihe,
            competent=taihe,
            now=NOW,
            tracking_key=KEY,
        )
        assert involved_agencies(session, complaint) == {"th-amr": "competent"}


def test_involve_is_idempotent(seeded: sessionmaker[Session]) -> None:
    with seeded() as session, session.begin():
        taihe = seeded_agency(session, "th-amr")
        mediators = seeded_agency(session, "th-pmc")
        complaint, _ = register_complaint(
            session,
            parse_complaint(complaint_payload(), NOW),
            received_by=taihe,
            competent=taihe,
            now=NOW,
            tracking_key=KEY,
        )
        assert involve(session, complaint.id, mediators.id, "mediator") is True
        assert involve(session, complaint.id, mediators.id, "mediator") is False
        assert involve(session, complaint.id, mediators.id, "other") is False
        assert involved_agencies(session, complaint) == {"th-amr": "competent", "th-pmc": "mediator"}


def test_regulator_needs_real_identity(seeded: sessionmaker[Session]) -> None:
    body = complaint_payload()
    del body["complainant"]["id_number"]
    data = parse_complaint(body, NOW)
    with seeded() as session, session.begin():
        with pytest.raises(ValidationError) as caught:
            register_complaint(
                session, data, received_by=seeded_agency(session, "th-amr"), competent=None, now=NOW, tracking_key=KEY
            )
        assert [e["loc"] for e in caught.value.errors()] == [("complainant", "id_number")]
        assert session.scalars(select(Complaint)).all() == []
        complaint, _ = register_complaint(
            session, data, received_by=seeded_agency(session, "th-cca"), competent=None, now=NOW, tracking_key=KEY
        )
        assert complaint.complainant_id_number is None


def test_tracking_lookup(seeded: sessionmaker[Session]) -> None:
    with seeded() as session, session.begin():
        complaint, code = register_complaint(
            session,
            parse_complaint(complaint_payload(), NOW),
            received_by=seeded_agency(session, "th-cca"),
            competent=None,
            now=NOW,
            tracking_key=KEY,
        )
        tracking_no, complaint_id = complaint.tracking_no, complaint.id
    with seeded() as session:
        found = find_by_tracking(session, tracking_no, code, tracking_key=KEY)
        assert found is not None and found.id == complaint_id
        typed = f"{code[:4].lower()}-{code[4:].lower()}"
        assert find_by_tracking(session, tracking_no.lower(), typed, tracking_key=KEY) is not None
        wrong_code = ("2" if code[0] != "2" else "3") + code[1:]
        assert find_by_tracking(session, tracking_no, wrong_code, tracking_key=KEY) is None
        assert find_by_tracking(session, tracking_no, code, tracking_key=derive_tracking_key("other")) is None
        assert find_by_tracking(session, "TS2026050600000000", code, tracking_key=KEY) is None
        assert find_by_tracking(session, tracking_no[:-1] + "x", code, tracking_key=KEY) is None


def test_tracking_numbers_are_unique(seeded: sessionmaker[Session]) -> None:
    with seeded() as session, session.begin():
        receiving = seeded_agency(session, "th-cca")
        data = parse_complaint(complaint_payload(), NOW)
        numbers = {
            register_complaint(session, data, received_by=receiving, competent=None, now=NOW, tracking_key=KEY)[
                0
            ].tracking_no
            for _ in range(25)
        }
    assert len(numbers) == 25
