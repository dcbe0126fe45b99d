"""Case numbers (案件编号) in the form agencies print on documents.

``太市监诉转案〔2026〕17号``: the agency's short name (机关简称), the kind of case (诉转案, a case
converted from a complaint), the year in tortoise-shell brackets 〔〕 (六角括号, U+3014/U+3015, as official
document numbers use, not 【】 or [ ]), and the per-agency, per-year sequence without padding.
"""

from __future__ import annotations

import re

CASE_KIND = "诉转案"
_CASE_NO_RE = re.compile(r"^(?P<short>.+?)(?P<kind>诉转案)〔(?P<year>\d{4})〕(?P<seq>[1-9]\d*)号$")


def format_case_no(short_name: str, year: int, seq: int) -> str:
    """``format_case_no("太市监", 2026, 17)`` → ``太市监诉转案〔2026〕17号``."""
    if not short_name:
        raise ValueError("short_name is required")
    if not 1000 <= year <= 9999:
        raise ValueError(f"year {year} is not a four-digit year")
    if seq < 1:
        raise ValueError(f"sequence {seq} must be positive")
    return f"{short_name}{CASE_KIND}〔{year}〕{seq}号"


def parse_case_no(case_no: str) -> tuple[str, int, int] | None:
    """``太市监诉转案〔2026〕17号`` → ``("太市监", 2026, 17)``; ``None`` if it is not one."""
    match = _CASE_NO_RE.match(case_no)
    if match is None:
        return None
    return match["short"], int(match["year"]), int(match["seq"])
