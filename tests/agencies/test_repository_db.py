"""Routing by jurisdiction, involvement, users and roles, on both backends."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from agencies.demo import seed_demo
from agencies.errors import InvalidUser
from agencies.repository import agency_users, competent_regulator, get_agency_by_code, get_user, parent_supervisors
from agencies.tables import Agency
from agencies.users import authenticate, create_user
from agencies.vocab import Role
from tests.agencies.factories import NOW, seeded_agency


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as s, s.begin():
        seed_demo(s, "Huaihe-Demo-2026!", now=NOW)
    with session_factory() as s:
        yield s
        s.rollback()


def _code(agency: Agency | None) -> str | None:
    return agency.code if agency is not None else None


@pytest.mark.parametrize(
    ("region_code", "expected"),
    [
        ("341222", "th-amr"),  # 太和县: its own county bureau
        ("341221", "lq-amr"),  # 临泉县
        ("341204", "fy-amr"),  # 颍泉区 has no bureau in the data: the city's
        ("341282", "fy-amr"),  # 界首市 (county-level city) likewise
        ("341200", "fy-amr"),
        ("340000", None),  # the province has no regulator in the data
        ("110105", None),  # another province altogether
        ("999999", None),
    ],
)
def test_competent_regulator(session: Session, region_code: str, expected: str | None) -> None:
    assert _code(competent_regulator(session, region_code)) == expected


def test_inactive_regulator_falls_through_to_the_next_level(session: Session) -> None:
    taihe = seeded_agency(session, "th-amr")
    taihe.active = False
    session.flush()
    assert _code(competent_regulator(session, "341222")) == "fy-amr"


def test_province_regulator_catches_the_rest_of_its_province(session: Session) -> None:
    session.add(
        Agency(
            code="ah-amr",
            name="安徽省市场监督管理局",
            short_name="皖市监",
            kind="market_regulator",
            region_code="340000",
            parent_id=None,
            active=True,
        )
    )
    session.flush()
    assert _code(competent_regulator(session, "340104")) == "ah-amr"  # 合肥市蜀山区
    assert _code(competent_regulator(session, "341222")) == "th-amr"  # nearest still wins


def test_agency_lookup(session: Session) -> None:
    taihe = get_agency_by_code(session, "th-amr")
    assert taihe is not None and taihe.short_name == "太市监"
    assert get_agency_by_code(session, "nope") is None


def test_users_by_role_and_parent_supervisors(session: Session) -> None:
    taihe = seeded_agency(session, "th-amr")
    assert [u.username for u in agency_users(session, taihe.id, Role.LIAISON)] == ["th-amr.liaison"]
    assert [u.username for u in agency_users(session, taihe.id, "enforcement")] == ["th-amr.liaison"]
    assert [u.username for u in agency_users(session, taihe.id)] == ["th-amr.liaison", "th-amr.supervisor"]
    assert [u.username for u in parent_supervisors(session, taihe)] == ["fy-amr.supervisor"]
    assert parent_supervisors(session, seeded_agency(session, "fy-amr")) == []
    association = seeded_agency(session, "th-cca")
    assert agency_users(session, association.id, Role.ENFORCEMENT) == []


def test_inactive_users_get_no_notices_and_cannot_log_in(session: Session) -> None:
    user = get_user(session, "fy-amr.supervisor")
    assert user is not None
    user.active = False
    session.flush()
    assert parent_supervisors(session, seeded_agency(session, "th-amr")) == []
    assert authenticate(session, "fy-amr.supervisor", "Huaihe-Demo-2026!") is None


def test_authenticate(session: Session) -> None:
    user = authenticate(session, "th-cca.liaison", "Huaihe-Demo-2026!")
    assert user is not None and user.roles == ["liaison"]
    assert authenticate(session, "th-cca.liaison", "wrong") is None
    assert authenticate(session, "nobody", "Huaihe-Demo-2026!") is None


def test_create_user_rules(session: Session) -> None:
    with pytest.raises(InvalidUser, match="only an administrator"):
        create_user(
            session, username="x", display_name="x", password="pw-Huaihe-3n8k", agency=None, roles=[Role.LIAISON],
            now=NOW,
        )
    with pytest.raises(InvalidUser, match="roles"):
        create_user(
            session,
            username="y",
            display_name="y",
            password="pw-Huaihe-3n8k",
            agency=seeded_agency(session, "th-amr"),
            roles=["boss"],
            now=NOW,
        )
    user = create_user(
        session,
        username="th-amr.officer",
        display_name="执法员",
        password="pw-Huaihe-3n8k",
        agency=seeded_agency(session, "th-amr"),
        roles=["enforcement", "enforcement"],
        now=NOW,
        email="officer@example.cn",
    )
    assert user.id is not None and user.roles == ["enforcement"]
