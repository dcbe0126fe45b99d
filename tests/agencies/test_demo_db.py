"""``seed_demo`` creates exactly the demo agencies and users listed below, on both backends, and is
idempotent."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from agencies.demo import seed_demo
from agencies.passwords import verify_password
from agencies.tables import Agency, Business, User
from agencies.users import authenticate
from tests.agencies.factories import NOW

EXPECTED_AGENCIES = {
    # code: (name, short name, kind, region, parent code)
    "fy-amr": ("阜阳市市场监督管理局", "阜市监", "market_regulator", "341200", None),
    "th-amr": ("太和县市场监督管理局", "太市监", "market_regulator", "341222", "fy-amr"),
    "lq-amr": ("临泉县市场监督管理局", "临市监", "market_regulator", "341221", "fy-amr"),
    "fy-cca": ("阜阳市消费者协会", "阜消协", "consumer_association", "341200", None),
    "th-cca": ("太和县消费者协会", "太消协", "consumer_association", "341222", "fy-cca"),
    "th-pmc": ("太和县消费纠纷人民调解委员会", "太消调委", "mediation_committee", "341222", None),
}

EXPECTED_USERS = {
    # username: (agency code, roles)
    "admin": (None, ["admin"]),
    **{
        f"{code}.liaison": (code, ["liaison", "enforcement"] if kind == "market_regulator" else ["liaison"])
        for code, (_, _, kind, _, _) in EXPECTED_AGENCIES.items()
    },
    **{f"{code}.supervisor": (code, ["supervisor"]) for code in EXPECTED_AGENCIES},
    "th-cxjd.staff": (None, ["business"]),  # the enrolled business's user: no agency
}

EXPECTED_BUSINESSES = {
    # USCC: (name, region, enrolled in online dispute resolution, its users)
    "91341222MA2N0Y7K3G": ("太和县诚信家电有限公司", "341222", True, ["th-cxjd.staff"]),
}


def _agencies(session: Session) -> dict[str, tuple[str, str, str, str, str | None]]:
    rows = session.scalars(select(Agency)).all()
    codes = {agency.id: agency.code for agency in rows}
    return {
        a.code: (a.name, a.short_name, a.kind, a.region_code, codes.get(a.parent_id) if a.parent_id else None)
        for a in rows
    }


def _users(session: Session) -> dict[str, tuple[str | None, list[str]]]:
    codes = {agency.id: agency.code for agency in session.scalars(select(Agency))}
    return {
        u.username: (codes[u.agency_id] if u.agency_id is not None else None, u.roles)
        for u in session.scalars(select(User))
    }


def _businesses(session: Session) -> dict[str | None, tuple[str, str, bool, list[str]]]:
    return {
        b.uscc: (b.name, b.region_code, b.odr,
                 list(session.scalars(select(User.username).where(User.business_id == b.id))))
        for b in session.scalars(select(Business))
    }


def test_seed_creates_exactly_the_demo_data(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as session, session.begin():
        report = seed_demo(session, "Huaihe-Demo-2026!", now=NOW)
    assert sorted(report) == sorted((username, "Huaihe-Demo-2026!") for username in EXPECTED_USERS)
    assert len(report) == 14
    with session_factory() as session:
        assert _agencies(session) == EXPECTED_AGENCIES
        assert _users(session) == EXPECTED_USERS
        assert _businesses(session) == EXPECTED_BUSINESSES
        assert all(user.active and user.created_at == NOW for user in session.scalars(select(User)))
        assert authenticate(session, "th-amr.liaison", "Huaihe-Demo-2026!") is not None
        assert authenticate(session, "admin", "Huaihe-Demo-2026!") is not None


def test_seed_twice_changes_nothing(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as session, session.begin():
        seed_demo(session, "Taihe-Seed-9x7q", now=NOW)
    with session_factory() as session:
        before = {u.username: u.password_hash for u in session.scalars(select(User))}
    with session_factory() as session, session.begin():
        again = seed_demo(session, "Second-Seed-5k2w", now=NOW)
    assert sorted(again) == sorted((username, None) for username in EXPECTED_USERS)
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Agency)) == 6
        assert _businesses(session) == EXPECTED_BUSINESSES
        assert {u.username: u.password_hash for u in session.scalars(select(User))} == before
        assert _agencies(session) == EXPECTED_AGENCIES
        assert authenticate(session, "fy-cca.supervisor", "Taihe-Seed-9x7q") is not None


def test_seed_without_password_gives_each_user_a_random_one(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as session, session.begin():
        report = dict(seed_demo(session, None, now=NOW))
    passwords = list(report.values())
    assert all(isinstance(p, str) and len(p) >= 16 for p in passwords)
    assert len(set(passwords)) == len(passwords)
    with session_factory() as session:
        user = session.scalar(select(User).where(User.username == "th-pmc.liaison"))
        assert user is not None
        secret = report["th-pmc.liaison"]
        assert secret is not None and verify_password(secret, user.password_hash)


def test_seed_completes_a_partial_installation(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as session, session.begin():
        seed_demo(session, "Taihe-Seed-9x7q", now=NOW)
        session.delete(session.scalars(select(User).where(User.username == "lq-amr.supervisor")).one())
    with session_factory() as session, session.begin():
        report = dict(seed_demo(session, "Second-Seed-5k2w", now=NOW))
    assert report["lq-amr.supervisor"] == "Second-Seed-5k2w"
    assert [name for name, secret in report.items() if secret is not None] == ["lq-amr.supervisor"]
