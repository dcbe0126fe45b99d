"""Masking of personal data for lists, exports, details and anything that might reach a log.

Only the agencies handling a complaint see these values whole, and only the values their part in
it needs (``visible_personal_data``); everywhere else shows the masked form, which keeps enough
to recognise a record without identifying the person.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from agencies.regions import is_region_name
from agencies.vocab import AgencyKind, Involvement

MASK = "****"
_MAX_REGION_NAME = 12  # longest division name is shorter (e.g. 新疆维吾尔自治区 has 8)
_MAX_REGION_LEVELS = 3  # province, prefecture, county


def mask_phone(phone: str) -> str:
    """``13812345678`` → ``138****5678``; a landline keeps its area code: ``0558-****3456``
    (an extension is dropped)."""
    parts = phone.split("-")
    if phone.startswith("0") and len(parts) >= 2:
        area, local = parts[0], parts[1]
        return f"{area}-{MASK}{local[-4:]}" if len(local) > 4 else f"{area}-{MASK}"
    if len(phone) <= 7:
        return MASK
    return f"{phone[:3]}{MASK}{phone[-4:]}"


def mask_id_number(id_number: str) -> str:
    """First 6 (region) and last 4 kept, the birth date and sequence hidden:
    ``341222200001011234`` → ``341222********1234``."""
    if len(id_number) <= 10:
        return "*" * len(id_number)
    return id_number[:6] + "*" * (len(id_number) - 10) + id_number[-4:]


def mask_address(address: str) -> str:
    """Keep the leading administrative divisions (province, city, county/district), mask the rest.

    ``安徽省阜阳市太和县城关镇人民路88号`` → ``安徽省阜阳市太和县****``. A division counts only if
    its name is in the GB/T 2260 list (so 幸福小区 is not mistaken for a district); when no
    division is recognised everything is masked.
    """
    kept = 0
    for _ in range(_MAX_REGION_LEVELS):
        step = _leading_region_name(address, kept)
        if not step:
            break
        kept += step
    if kept == len(address):
        return address
    return address[:kept] + MASK


def _leading_region_name(address: str, start: int) -> int:
    """Length of the shortest region name at ``address[start:]``, 0 if none."""
    for end in range(start + 2, min(len(address), start + _MAX_REGION_NAME) + 1):
        if is_region_name(address[start:end]):
            return end - start
    return 0


def mask_name(name: str) -> str:
    """``张三`` → ``张*``, ``欧阳娜娜`` → ``欧***``: the first character stays (enough to tell rows
    apart in a list), one ``*`` per hidden character; a one-character name is all hidden."""
    name = name.strip()
    if len(name) <= 1:
        return "*"
    return name[0] + "*" * (len(name) - 1)


def mask_email(email: str) -> str:
    """``zhangsan@example.com`` → ``z****@example.com``: the domain stays, the mailbox is hidden."""
    local, at, domain = email.rpartition("@")
    if not at or not local:
        return MASK
    return f"{local[0]}{MASK}@{domain}"


# ---- who sees what ------------------------------------------------------------------------------


class PersonalField(StrEnum):
    """The complainant's personal data a complaint holds. (The complainant's name is shown to every
    involved agency; no postal address of the complainant is collected, and the business's
    address and registration are not personal data.)"""

    ID_NUMBER = "id_number"
    PHONE = "phone"
    EMAIL = "email"


class Relationship(StrEnum):
    """An agency's part in one complaint, which decides the personal data its staff see."""

    COMPETENT = "competent"  # the competent regulator (``complaints.competent_agency_id``): decides the case
    MEDIATOR = "mediator"  # a consumer association or mediation committee mediating or reviewing it
    HANDLER = "handler"  # another agency working it (e.g. case work by a regulator that is not competent)
    PASSED_ON = "passed_on"  # only received it, or handled it and transferred or referred it on
    BUSINESS = "business"  # the business complained about (its own users): never the ID number


_CONTACT = frozenset({PersonalField.PHONE, PersonalField.EMAIL})

VISIBLE: Mapping[Relationship, frozenset[PersonalField]] = {
    Relationship.COMPETENT: frozenset(PersonalField),
    Relationship.MEDIATOR: _CONTACT,
    Relationship.HANDLER: _CONTACT,
    Relationship.PASSED_ON: frozenset(),
    Relationship.BUSINESS: frozenset(),
}

_MEDIATING_KINDS = frozenset({AgencyKind.CONSUMER_ASSOCIATION.value, AgencyKind.MEDIATION_COMMITTEE.value})
_WORKING_ROLES = frozenset({Involvement.HANDLER.value, Involvement.MEDIATOR.value, Involvement.ENFORCEMENT.value})


def visible_personal_data(relationship: Relationship) -> frozenset[PersonalField]:
    """The complainant's personal data shown whole to an agency in this relationship; the rest is masked.

    The rule: the ID number is whole only for the competent regulator's staff, who decide the
    complaint and may need the complainant's identity; a mediator (consumer association, mediation
    committee) and any other agency working the complaint see the phone and e-mail whole, since
    they must contact the complainant, but the ID number masked; an agency that only received the
    complaint, or passed it on (transfer, referral), sees everything masked — as does a business.
    Lists and exports are masked for everyone (see ``mask_personal_data`` with no relationship).
    """
    return VISIBLE[relationship]


def relationship_to(*, agency_id: int, agency_kind: str | None, involvement: str | None,
                    competent_agency_id: int | None) -> Relationship:
    """An involved agency's relationship to a complaint, from the complaint's competent agency and
    the agency's ``complaint_agencies.role`` (kept current as the complaint moves between agencies)."""
    if competent_agency_id is not None and agency_id == competent_agency_id:
        return Relationship.COMPETENT
    if involvement == Involvement.TRANSFERRED_FROM.value:
        return Relationship.PASSED_ON
    if agency_kind in _MEDIATING_KINDS:
        return Relationship.MEDIATOR
    if involvement in _WORKING_ROLES:
        return Relationship.HANDLER
    return Relationship.PASSED_ON  # a regulator that only received it, or was competent before a transfer


MASKERS = {PersonalField.ID_NUMBER: mask_id_number, PersonalField.PHONE: mask_phone, PersonalField.EMAIL: mask_email}


def _hidden(value: str) -> str:
    return "*" * len(value)


# A party on the other side of the dispute sees not even the part of the ID number a masked form keeps
# (the region of birth and the last digits): its whole length is hidden.
HIDDEN: Mapping[Relationship, frozenset[PersonalField]] = {Relationship.BUSINESS: frozenset({PersonalField.ID_NUMBER})}


def complainant_name_for(name: str, relationship: Relationship | None) -> str:
    """The complainant's name as a viewer sees it: whole for the agencies involved, masked (``张*``) for the
    business complained about, as in a list; the business meets the complainant through the platform."""
    return mask_name(name) if relationship is Relationship.BUSINESS else name


def mask_personal_data(values: Mapping[PersonalField, str | None],
                       relationship: Relationship | None) -> dict[PersonalField, str | None]:
    """``values`` with what ``relationship`` may not see masked (everything when it is ``None``, as in
    lists and exports)."""
    visible = visible_personal_data(relationship) if relationship is not None else frozenset()
    hidden = HIDDEN.get(relationship, frozenset()) if relationship is not None else frozenset()
    return {field: value if value is None or field in visible
            else _hidden(value) if field in hidden else MASKERS[field](value)
            for field, value in values.items()}


def scrub(value: Any, replacements: Mapping[str, str]) -> Any:
    """``value`` (JSON-like: audit details, task data) with every occurrence of each key of
    ``replacements`` replaced by its value — the personal data a viewer may not see, wherever
    someone typed it (a reason, a summary)."""
    if not replacements:
        return value
    if isinstance(value, str):
        for whole, masked in replacements.items():
            value = value.replace(whole, masked)
        return value
    if isinstance(value, Mapping):
        return {key: scrub(item, replacements) for key, item in value.items()}
    if isinstance(value, list):
        return [scrub(item, replacements) for item in value]
    return value
