"""Files from other modelers get a verdict an admin can act on: every error names an element or a line, in Chinese.

The corpus (tests/data/miwg) is 250 files exported by about 35 modelling tools, sampled from the OMG
BPMN Model Interchange Working Group's test suite (CC BY 3.0, see its LICENSE.txt and README): a
sample of what admins will upload. None of them follows this product's conventions, so most are
refused; what is tested is how: no crash, and each issue points at something the admin can find.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree

from engine.bpmn.validation import validate_bpmn
from engine.errors import InvalidWorkflow, WorkflowIssue

CORPUS = Path(__file__).parent.parent / "data" / "miwg"
FILES = sorted(path.name for path in CORPUS.glob("*.bpmn"))
CHINESE = re.compile(r"[\u4e00-\u9fff]")
CLARK = re.compile(r"\{https?://[^}]*\}")  # a raw namespace-qualified tag means an untranslated XSD message


def verdict(xml: bytes) -> list[WorkflowIssue]:
    """The validator's answer, as the API gives it: no issues, or the ones ``InvalidWorkflow`` carries."""
    try:
        validate_bpmn(xml, known_rules={"acceptance"}, external_catchers=set())
    except InvalidWorkflow as refused:
        assert refused.issues, "a refusal without any issue"
        return refused.issues
    return []


def ids_in(xml: bytes) -> set[str]:
    """Every id in the file, read leniently (a file the validator refuses as malformed XML has none)."""
    parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True, load_dtd=False)
    root = etree.fromstring(xml, parser)
    return set() if root is None else {node.get("id", "") for node in root.iter() if node.get("id")}


@pytest.fixture(scope="module")
def timings() -> Iterator[dict[str, float]]:
    spent: dict[str, float] = {}
    yield spent
    if spent:
        slowest = max(spent, key=spent.__getitem__)
        print(f"\nvalidated {len(spent)} corpus files in {sum(spent.values()):.1f} s "
              f"(slowest {slowest}: {spent[slowest]:.2f} s)")


def test_the_corpus_and_its_licence_are_here() -> None:
    assert len(FILES) == 250
    assert "Creative Commons Attribution 3.0" in (CORPUS / "LICENSE.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize("filename", FILES)
def test_every_error_names_an_element_or_a_line_in_chinese(filename: str, timings: dict[str, float]) -> None:
    xml = (CORPUS / filename).read_bytes()
    started = time.perf_counter()
    issues = verdict(xml)  # any other exception fails the test: nothing may escape the validator
    timings[filename] = time.perf_counter() - started

    ids, lines = ids_in(xml), xml.count(b"\n") + 1
    for issue in issues:
        assert issue.element_id or issue.line, f"no element and no line: {issue}"
        assert issue.element_id is None or issue.element_id in ids, f"not an id of the file: {issue}"
        assert issue.line is None or 1 <= issue.line <= lines, f"not a line of the file: {issue}"
        assert CHINESE.search(issue.message), f"no Chinese: {issue.message}"
        assert not CLARK.search(issue.message), f"raw XSD tag: {issue.message}"
        assert "<Element " not in issue.message and " at 0x" not in issue.message, issue.message
