"""GB/T 2260 codes from stdnum's list: existence, names and the enclosing regions."""

from __future__ import annotations

import pytest

from agencies.regions import ancestors, is_region_name, region_exists, region_name


@pytest.mark.parametrize(
    ("code", "name"),
    [("340000", "安徽省"), ("341200", "阜阳市"), ("341221", "临泉县"), ("341222", "太和县"), ("341204", "颍泉区")],
)
def test_demo_regions_exist(code: str, name: str) -> None:
    assert region_exists(code)
    assert region_name(code) == name


@pytest.mark.parametrize(
    "code",
    [
        "341223",  # 涡阳县 moved to 亳州 in 2000: retired code
        "341299",  # never assigned
        "341201",  # 市辖区 is a grouping, not a place
        "429000",  # 省直辖县级行政单位, likewise
        "999999",
        "34122",
        "3412222",
        "34122a",
        "",
    ],
)
def test_codes_that_do_not_exist(code: str) -> None:
    assert not region_exists(code)
    assert region_name(code) is None


@pytest.mark.parametrize(
    ("code", "chain"),
    [
        ("341222", ("341200", "340000")),
        ("341204", ("341200", "340000")),
        ("341200", ("340000",)),
        ("340000", ()),
        ("429004", ("420000",)),  # 仙桃市: its 4290 level is only a grouping
        ("110105", ("110000",)),  # 北京市朝阳区: 110100 is 市辖区
        ("341299", ("341200", "340000")),  # structural, even for an unknown code
        ("bogus", ()),
    ],
)
def test_ancestors_nearest_first(code: str, chain: tuple[str, ...]) -> None:
    assert ancestors(code) == chain


def test_region_names_include_historical_ones() -> None:
    assert is_region_name("太和县")
    assert is_region_name("涡阳县")
    assert not is_region_name("市辖区")
    assert not is_region_name("幸福小区")
