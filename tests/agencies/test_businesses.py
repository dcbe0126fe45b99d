"""Businesses as parties: intake finds or creates the business a complaint is against, the migration links
the complaints registered before, business users are made as the rules say, on both backends."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select, text

from agencies import businesses
from agencies.errors import InvalidUser
from agencies.masking import (
    PersonalField,
    Relationship,
    complainant_name_for,
    mask_personal_data,
)
from agencies.tables import Agency, Business, Complaint, User
from agencies.users import create_user
from complaintflow.services import complaints
from engine.clock import SHANGHAI
from engine.db.migrate import upgrade
from engine.db.session import make_engine
from tests.agencies.factories import TAIHE_ID, credit_code
from tests.workflows.scenario import Scenario, complaint_body

DEMO_USCC = "91341222MA2N0Y7K3G"  # 太和县诚信家电有限公司, enrolled (demo data)
FUYANG_USCC = credit_code("91341200MA2T5B8X4")
SHOP = {"name": "太和县某某电器商行", "region_code": "341222", "address": "安徽省阜阳市太和县城关镇人民路1号"}


def _business(s: Scenario, complaint: Complaint) -> Business:
    with s.product.reader() as uow:
        stored = uow.session.get(Complaint, complaint.id)
        assert stored is not None and stored.business_id is not None
        business = uow.session.get(Business, stored.business_id)
        assert business is not None
        return business


def _count(s: Scenario) -> int:
    with s.product.reader() as uow:
        return len(uow.session.scalars(select(Business)).all())


def test_a_complaint_naming_a_new_business_creates_it_not_enrolled(s: Scenario) -> None:
    before = _count(s)
    complaint = s.submit(business={**SHOP, "uscc": FUYANG_USCC.lower()})
    business = _business(s, complaint)
    assert (business.uscc, business.name, business.region_code, business.address, business.odr) == (
        FUYANG_USCC, "太和县某某电器商行", "341222", "安徽省阜阳市太和县城关镇人民路1号", False)
    assert business.created_at == s.clock.now()
    assert _count(s) == before + 1


def test_the_enrolled_business_is_found_by_its_uscc_whatever_the_name(s: Scenario) -> None:
    complaint = s.submit(business={"name": "诚信家电", "region_code": "341221", "uscc": DEMO_USCC})
    business = _business(s, complaint)
    assert (business.name, business.region_code, business.odr) == ("太和县诚信家电有限公司", "341222", True)
    with s.product.reader() as uow:
        stored = uow.session.get(Complaint, complaint.id)
        assert stored is not None and stored.business_name == "诚信家电"  # what the complainant wrote stays


def test_without_a_uscc_the_business_is_found_by_name_and_region(s: Scenario) -> None:
    before = _count(s)
    first = _business(s, s.submit(business=SHOP))
    again = _business(s, s.submit(business={**SHOP, "address": None}))
    elsewhere = _business(s, s.submit(business={**SHOP, "region_code": "341221"}))
    assert first.id == again.id and first.uscc is None and not first.odr
    assert elsewhere.id != first.id and elsewhere.region_code == "341221"
    assert _count(s) == before + 2
    # a complaint without a USCC naming the enrolled business by its registered name reaches it
    named = _business(s, s.submit(business={"name": "太和县诚信家电有限公司", "region_code": "341222"}))
    assert (named.uscc, named.odr) == (DEMO_USCC, True)


def test_a_uscc_given_later_is_taken_by_the_business_known_by_name(s: Scenario) -> None:
    before = _count(s)
    by_name = _business(s, s.submit(business=SHOP))
    with_uscc = _business(s, s.submit(business={**SHOP, "uscc": FUYANG_USCC}))
    assert with_uscc.id == by_name.id and with_uscc.uscc == FUYANG_USCC
    assert _business(s, s.submit(business=SHOP)).id == by_name.id
    assert _count(s) == before + 1


def test_the_public_form_links_the_business_too(s: Scenario) -> None:
    complaint = s.submit(received_by=None, business={**SHOP, "uscc": DEMO_USCC})
    assert _business(s, complaint).uscc == DEMO_USCC


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # truly concurrent transactions
@pytest.mark.parametrize("uscc", [None, FUYANG_USCC])
def test_two_intakes_racing_for_a_new_business_create_it_once(s: Scenario, monkeypatch: pytest.MonkeyPatch,
                                                               uscc: str | None) -> None:
    both_registered = threading.Barrier(2, timeout=60)
    link = businesses.link_complaint

    def link_together(*args: Any, **kwargs: Any) -> Business:
        both_registered.wait()  # each has registered its complaint: now both look for the business
        return link(*args, **kwargs)

    monkeypatch.setattr("complaintflow.services.complaints.link_complaint", link_together)
    actor = s.actor("th-amr.liaison")
    outcomes: list[object] = []

    def post(subject: str) -> None:
        try:
            outcomes.append(complaints.submit(s.product, complaint_body(business={**SHOP, "uscc": uscc},
                                                                        subject=subject), actor))
        except Exception as exc:  # the assertion below names whatever it was
            outcomes.append(exc)

    before = _count(s)
    threads = [threading.Thread(target=post, args=(subject,)) for subject in ("空调不制冷", "冰箱漏水")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert all(isinstance(o, complaints.Submitted) for o in outcomes) and len(outcomes) == 2, outcomes
    ids = {_business(s, o.complaint).id for o in outcomes if isinstance(o, complaints.Submitted)}
    assert len(ids) == 1 and _count(s) == before + 1


# ---- business users --------------------------------------------------------------------------------------


def test_a_business_user_belongs_to_one_business_and_no_agency(s: Scenario) -> None:
    now = s.clock.now()
    with s.product.uow() as uow:
        session = uow.session
        business = session.scalars(select(Business).where(Business.uscc == DEMO_USCC)).one()
        agency = session.scalars(select(Agency).where(Agency.code == "th-amr")).one()
        user = create_user(session, username="th-cxjd.clerk", display_name="诚信家电客服",
                           password="Chengxin-Clerk-2026", agency=None, roles=["business"], now=now, business=business)
        assert (user.business_id, user.agency_id, user.roles) == (business.id, None, ["business"])
        refused: list[tuple[Agency | None, list[str], Business | None]] = [
            (None, ["business"], None),  # a business user names its business
            (agency, ["business"], business),  # and no agency
            (None, ["business", "admin"], business),  # and holds no other role
            (None, ["liaison"], business),  # a business's user is a business user
        ]
        for number, (of_agency, roles, of_business) in enumerate(refused):
            with pytest.raises(InvalidUser) as error:
                create_user(session, username=f"bad{number}", display_name="某人", password="Chengxin-Clerk-2026",
                            now=now, agency=of_agency, roles=roles, business=of_business)
            assert "经营者账号" in error.value.reason


def test_the_business_never_sees_the_id_number_nor_the_name_whole() -> None:
    values: dict[PersonalField, str | None] = {PersonalField.ID_NUMBER: TAIHE_ID, PersonalField.PHONE: "13812345678",
                                               PersonalField.EMAIL: "zhangsan@example.com"}
    seen = mask_personal_data(values, Relationship.BUSINESS)
    assert seen == {PersonalField.ID_NUMBER: "*" * 18, PersonalField.PHONE: "138****5678",
                    PersonalField.EMAIL: "z****@example.com"}
    assert mask_personal_data(values, Relationship.PASSED_ON)[PersonalField.ID_NUMBER] == TAIHE_ID[:6] + "*" * 8 + \
        TAIHE_ID[-4:]  # an agency still sees the masked form
    assert complainant_name_for("张三", Relationship.BUSINESS) == "张*"
    assert complainant_name_for("张三", Relationship.MEDIATOR) == "张三"


# ---- the migration -----------------------------------------------------------------------------------------


def _complaint(number: int, agency_id: int, at: datetime, **business: Any) -> dict[str, Any]:
    return {"tracking_no": f"T{number:04d}", "tracking_code_hash": "v1$x", "kind": "complaint", "status": "registered",
            "received_at": at, "received_by_id": agency_id, "competent_agency_id": agency_id,
            "complainant_name": "张三", "complainant_phone": "13812345678", "category": "quality",
            "subject": "空调不制冷", "description": "购买一周后不制冷", "created_at": at, "updated_at": at,
            "business_address": None, "business_uscc": None, **business}


def test_the_migration_links_the_complaints_registered_before(empty_database_url: str) -> None:
    """0005 creates one business per USCC, else per name and region, and links every complaint to it."""
    upgrade(empty_database_url, "0004")
    start = datetime(2026, 11, 2, 9, tzinfo=SHANGHAI)
    engine = make_engine(empty_database_url)
    try:
        with engine.begin() as conn:
            agency_id = conn.execute(insert(Agency).values(
                code="th-amr", name="太和县市场监督管理局", short_name="太市监", kind="market_regulator",
                region_code="341222", parent_id=None, active=True).returning(Agency.id)).scalar_one()
            rows = [  # (business name, region, USCC, address)
                ("诚信家电", "341222", DEMO_USCC, None),
                ("太和县诚信家电有限公司", "341222", DEMO_USCC, "和平路18号"),  # the same USCC: the latest name
                ("太和县诚信家电有限公司", "341222", None, None),  # no USCC, the registered name: that business
                ("某某商行", "341222", None, "人民路1号"),
                ("某某商行", "341222", None, "人民路2号"),  # the same name and region: one business
                ("某某商行", "341221", None, None),  # another region: another business
            ]
            for number, (name, region, uscc, address) in enumerate(rows):
                conn.execute(insert(Complaint).values(_complaint(
                    number, agency_id, start + timedelta(days=number), business_name=name,
                    business_region_code=region, business_uscc=uscc, business_address=address)))
        upgrade(empty_database_url)
        with engine.connect() as conn:
            businesses = {b.id: (b.uscc, b.name, b.region_code, b.address, b.odr, b.created_at)
                          for b in conn.execute(select(Business))}
            links = [businesses[row.business_id] for row in conn.execute(
                select(Complaint.business_id).order_by(Complaint.tracking_no))]
            assert conn.execute(select(User.business_id)).all() == []
    finally:
        engine.dispose()
    registered = (DEMO_USCC, "太和县诚信家电有限公司", "341222", "和平路18号", False, start)
    shop = (None, "某某商行", "341222", "人民路2号", False, start + timedelta(days=3))
    linquan = (None, "某某商行", "341221", None, False, start + timedelta(days=5))
    assert sorted(businesses.values(), key=str) == sorted([registered, shop, linquan], key=str)
    assert links == [registered, registered, registered, shop, shop, linquan]


def test_the_migration_on_an_empty_database_and_back(empty_database_url: str) -> None:
    from alembic import command

    from engine.db.migrate import alembic_config

    upgrade(empty_database_url)
    command.downgrade(alembic_config(empty_database_url), "0004")
    engine = make_engine(empty_database_url)
    try:
        with engine.connect() as conn:
            assert "businesses" not in {row[0] for row in conn.execute(text(
                "SELECT name FROM sqlite_master WHERE type = 'table'" if conn.dialect.name == "sqlite"
                else "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))}
    finally:
        engine.dispose()
    upgrade(empty_database_url)
