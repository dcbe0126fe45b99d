"""Demo agencies and users (``complaintflow seed --demo``): a Fuyang (阜阳) city
bureau with two county bureaus, the city and Taihe consumer associations and the Taihe
people's mediation committee — enough for every path of the reference workflows — and one Taihe
business enrolled in online dispute resolution, with its own user."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from agencies.passwords import random_password
from agencies.repository import get_agency_by_code, get_user
from agencies.tables import Agency, Business
from agencies.users import create_user
from agencies.vocab import AgencyKind, Role
from engine.clock import SystemClock


@dataclass(frozen=True)
class DemoAgency:
    code: str
    name: str
    short_name: str
    kind: AgencyKind
    region_code: str
    parent: str | None


DEMO_AGENCIES: tuple[DemoAgency, ...] = (  # parents before children
    DemoAgency("fy-amr", "阜阳市市场监督管理局", "阜市监", AgencyKind.MARKET_REGULATOR, "341200", None),
    DemoAgency("th-amr", "太和县市场监督管理局", "太市监", AgencyKind.MARKET_REGULATOR, "341222", "fy-amr"),
    DemoAgency("lq-amr", "临泉县市场监督管理局", "临市监", AgencyKind.MARKET_REGULATOR, "341221", "fy-amr"),
    DemoAgency("fy-cca", "阜阳市消费者协会", "阜消协", AgencyKind.CONSUMER_ASSOCIATION, "341200", None),
    DemoAgency("th-cca", "太和县消费者协会", "太消协", AgencyKind.CONSUMER_ASSOCIATION, "341222", "fy-cca"),
    DemoAgency("th-pmc", "太和县消费纠纷人民调解委员会", "太消调委", AgencyKind.MEDIATION_COMMITTEE, "341222", None),
)

ADMIN_USERNAME = "admin"


@dataclass(frozen=True)
class DemoBusiness:
    code: str  # its user is ``CODE.staff``
    name: str
    uscc: str
    region_code: str
    address: str
    odr: bool


DEMO_BUSINESSES: tuple[DemoBusiness, ...] = (
    DemoBusiness("th-cxjd", "太和县诚信家电有限公司", "91341222MA2N0Y7K3G", "341222",
                 "安徽省阜阳市太和县城关镇和平路18号", True),
)


def business_username(business: DemoBusiness) -> str:
    return f"{business.code}.staff"


def demo_users(agency: DemoAgency) -> list[tuple[str, str, list[Role]]]:
    """(username, display name, roles) of an agency's two demo users."""
    liaison_roles = [Role.LIAISON]
    if agency.kind is AgencyKind.MARKET_REGULATOR:
        liaison_roles.append(Role.ENFORCEMENT)
    return [
        (f"{agency.code}.liaison", f"{agency.name}联络员", liaison_roles),
        (f"{agency.code}.supervisor", f"{agency.name}负责人", [Role.SUPERVISOR]),
    ]


def seed_demo(session: Session, password: str | None, *, now: datetime | None = None) -> list[tuple[str, str | None]]:
    """Create the demo agencies and users that do not exist yet; never changes existing rows.

    Returns every demo username with the password it was just given, or ``None`` for a user
    that already existed (its password is unknown and left alone). ``password=None`` gives each
    new user its own random password. Does not commit.
    """
    created_at = now if now is not None else SystemClock().now()
    agencies: dict[str, Agency] = {}
    for spec in DEMO_AGENCIES:
        agencies[spec.code] = _ensure_agency(session, spec, agencies)
    report: list[tuple[str, str | None]] = []
    accounts: list[tuple[str, str, list[Role], Agency | None]] = [
        (username, display, roles, agencies[spec.code])
        for spec in DEMO_AGENCIES
        for username, display, roles in demo_users(spec)
    ]
    accounts.append((ADMIN_USERNAME, "系统管理员", [Role.ADMIN], None))
    businesses = {spec.code: _ensure_business(session, spec, created_at) for spec in DEMO_BUSINESSES}
    business_accounts = {business_username(spec): businesses[spec.code] for spec in DEMO_BUSINESSES}
    accounts += [(business_username(spec), f"{spec.name}工作人员", [Role.BUSINESS], None) for spec in DEMO_BUSINESSES]
    for username, display_name, roles, agency in accounts:
        if get_user(session, username) is not None:
            report.append((username, None))
            continue
        secret = password if password is not None else random_password(username)
        create_user(
            session,
            username=username,
            display_name=display_name,
            password=secret,
            agency=agency,
            roles=roles,
            now=created_at,
            business=business_accounts.get(username),
        )
        report.append((username, secret))
    return report


def _ensure_agency(session: Session, spec: DemoAgency, created: dict[str, Agency]) -> Agency:
    existing = get_agency_by_code(session, spec.code)
    if existing is not None:
        return existing
    agency = Agency(
        code=spec.code,
        name=spec.name,
        short_name=spec.short_name,
        kind=spec.kind.value,
        region_code=spec.region_code,
        parent_id=created[spec.parent].id if spec.parent is not None else None,
        active=True,
    )
    session.add(agency)
    session.flush()
    return agency


def _ensure_business(session: Session, spec: DemoBusiness, now: datetime) -> Business:
    """The demo business by its USCC, as it is if it exists (seeding never changes existing rows)."""
    existing = session.scalar(select(Business).where(Business.uscc == spec.uscc))
    if existing is not None:
        return existing
    business = Business(uscc=spec.uscc, name=spec.name, region_code=spec.region_code, address=spec.address,
                        odr=spec.odr, created_at=now)
    session.add(business)
    session.flush()
    return business
