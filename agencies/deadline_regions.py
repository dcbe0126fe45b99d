"""The product's side of the engine's ``RuleRegion`` port: where an agency is, for deadline rules that
differ by province (a consumer association's acceptance period).

An agency's province is the first two digits of its own GB/T 2260 region code, never the business's
or the complainant's: the rule binds the agency that handles the complaint.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from agencies.repository import get_agency_by_code


class AgencyRegions:
    """Answers the region code of the agency working a task (``None`` for an unknown agency)."""

    def region_of(self, session: Session, agency_code: str) -> str | None:
        agency = get_agency_by_code(session, agency_code)
        return agency.region_code if agency is not None else None
