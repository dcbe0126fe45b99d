"""GB/T 2260 administrative division codes (行政区划代码), from the list python-stdnum ships.

stdnum keeps the codes in ``stdnum/cn/loc.dat`` (read through ``stdnum.numdb``, as
``stdnum.cn.ric`` does for birth places): provinces as two-digit prefixes, and below each the
remaining four digits with names, some tagged with the years they were in use, e.g.
``1223 county="[1996-2000]涡阳县"``. A code "exists" when it is in use today; grouping entries
such as 市辖区 or 省直辖县级行政单位 are not places and do not count.

The list is maintained upstream; a code it does not know yet is rejected until stdnum is
upgraded (the pin in pyproject.toml).
"""

from __future__ import annotations

import re
from functools import cache

from stdnum import numdb

REGION_CODE_RE = re.compile(r"^\d{6}$")

# Grouping entries of the list: they name a level of the tree, not a place.
_PLACEHOLDERS = frozenset({"市辖区", "县", "市区", "省直辖县级行政单位", "自治区直辖县级行政单位", "省直辖行政单位"})
_ENTRY_RE = re.compile(r"^(?:\[(?P<start>\d*)-(?P<end>\d*)\])?(?P<name>.+)$")


def _parse_entries(value: str) -> list[tuple[str, bool]]:
    """``"[1983-2001]郊区,[2002-]包河区"`` → ``[("郊区", False), ("包河区", True)]`` (name, current)."""
    entries = []
    for part in value.split(","):
        match = _ENTRY_RE.match(part.strip())
        if match is None:  # pragma: no cover - the shipped file always matches
            continue
        entries.append((match["name"], not match["end"]))
    return entries


@cache
def _load() -> tuple[dict[str, str], frozenset[str]]:
    """(current code → name, every name ever used) read once from stdnum's list."""
    current: dict[str, str] = {}
    names: set[str] = set()
    for _length, low, high, _props, children in numdb.get("cn/loc").prefixes:
        if low != high:  # pragma: no cover - provinces are single prefixes
            continue
        for _child_length, child_low, child_high, props, _ in children:
            if child_low != child_high or "county" not in props:  # pragma: no cover
                continue
            for name, is_current in _parse_entries(props["county"]):
                if name in _PLACEHOLDERS:
                    continue
                names.add(name)
                if is_current:
                    current[low + child_low] = name
    return current, frozenset(names)


def region_exists(code: str) -> bool:
    """Whether ``code`` is a GB/T 2260 code in use today (province, city or county level)."""
    return bool(REGION_CODE_RE.match(code)) and code in _load()[0]


def region_name(code: str) -> str | None:
    """The current name of a region code (``341222`` → 太和县), ``None`` if it is not in use."""
    return _load()[0].get(code) if REGION_CODE_RE.match(code) else None


def ancestors(code: str) -> tuple[str, ...]:
    """The enclosing regions in use, nearest first: ``341222`` → ``("341200", "340000")``.

    Works on the structure of the code (county → prefecture → province), so it also answers for
    a code that is itself unknown; levels that are only groupings (e.g. 429000) are skipped.
    """
    if not REGION_CODE_RE.match(code):
        return ()
    candidates = []
    if code[4:] != "00":
        candidates.append(code[:4] + "00")
    if code[2:] != "0000":
        candidates.append(code[:2] + "0000")
    current = _load()[0]
    return tuple(c for c in candidates if c in current)


def is_region_name(name: str) -> bool:
    """Whether ``name`` is (or was) the name of a region, e.g. 太和县 — used to mask addresses."""
    return name in _load()[1]


def preload() -> None:
    """Read the list now, at start-up: stdnum parses it on first use (0.1 s), and the first requests
    would otherwise each parse it at once, in every request thread."""
    _load()
