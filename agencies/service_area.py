"""The regions the product serves: where a business may be for a complaint to reach a regulator here.

A public complaint goes to the competent market regulator of the business's region, or of the
nearest enclosing region that has one (``agencies.repository.competent_regulator``). So the product
serves each active regulator's own region and every region under it; the forms offer those as a
list to choose from instead of asking people for a six-digit code.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from agencies.regions import region_name
from agencies.tables import Agency
from agencies.vocab import AgencyKind


@dataclass(frozen=True)
class Region:
    code: str
    name: str


@dataclass(frozen=True)
class RegionGroup:
    """The regions of one prefecture (or a province's directly administered ones)."""

    name: str
    regions: list[Region]


def _counties(prefix: str) -> list[str]:
    """The codes in use under a four-digit prefecture prefix (``3412`` → 341202 颍州区 …)."""
    return [code for n in range(1, 100) if region_name(code := f"{prefix}{n:02d}")]


def _leaves(code: str) -> list[str]:
    """The most specific regions in use under ``code``, or ``code`` itself when none is below it. A
    province's directly administered counties (429004 仙桃市) sit under a prefix that is no place."""
    if code.endswith("0000"):
        found = []
        for n in range(1, 100):
            prefix = f"{code[:2]}{n:02d}"
            counties = _counties(prefix)
            found.extend(counties or ([prefix + "00"] if region_name(prefix + "00") else []))
        return found or ([code] if region_name(code) else [])
    if code.endswith("00"):
        return _counties(code[:4]) or ([code] if region_name(code) else [])
    return [code] if region_name(code) else []


def served_regions(session: Session) -> list[RegionGroup]:
    """Every county-level region (or a prefecture without counties) that has a competent active
    regulator, grouped by prefecture, in code order."""
    roots = set(session.scalars(select(Agency.region_code).where(
        Agency.kind == AgencyKind.MARKET_REGULATOR, Agency.active.is_(True))))
    codes = sorted({leaf for root in roots for leaf in _leaves(root)})
    groups: dict[str, RegionGroup] = {}
    for code in codes:
        parent = code[:4] + "00" if not code.endswith("00") else code[:2] + "0000"
        parent_name = region_name(parent) or region_name(code[:2] + "0000") or ""
        group = groups.setdefault(parent, RegionGroup(parent_name, []))
        group.regions.append(Region(code, region_name(code) or code))
    return list(groups.values())


def served_codes(groups: list[RegionGroup]) -> set[str]:
    return {region.code for group in groups for region in group.regions}
