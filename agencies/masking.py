"""Masking of personal data for lists, exports and anything that might reach a log (DESIGN §7).

Only the agencies handling a complaint see these values whole; everywhere else shows the masked
form, which keeps enough to recognise a record without identifying the person.
"""

from __future__ import annotations

from agencies.regions import is_region_name

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
