"""Files from other modelers get element-level verdicts; hostile files are refused fast, harmlessly."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from engine.bpmn.scaffold import Script, UserTask, build
from engine.bpmn.validation import validate_bpmn
from engine.errors import InvalidWorkflow

FOREIGN = Path(__file__).parent / "foreign"


def verdict(xml: bytes | str) -> list[tuple[str | None, str]]:
    with pytest.raises(InvalidWorkflow) as error:
        validate_bpmn(xml, known_rules={"acceptance"}, external_catchers=set())
    return [(i.element_id, i.message) for i in error.value.issues]


@pytest.mark.parametrize(("filename", "expected"), [
    ("camunda7.bpmn", {("Review", "Camunda 7 attributes"), ("Review", "Camunda 7 extension"),
                       ("Flow_yes", "JUEL expressions are not supported")}),
    ("camunda8_zeebe.bpmn", {("Notify", "Zeebe) extension"), ("Wait", "FEEL"), ("f5", "FEEL")}),
    ("collaboration_not_executable.bpmn", {("Proc_consumer", "no executable process")}),
    ("bizagi_with_compensation.bpmn", {("refund", "Bizagi extension"), ("undo", "compensation")}),
])
def test_files_from_other_modelers_get_element_level_errors(filename: str, expected: set[tuple[str, str]]) -> None:
    issues = verdict((FOREIGN / filename).read_bytes())
    for element_id, fragment in expected:
        assert any(i == element_id and fragment in m for i, m in issues), (element_id, fragment, issues)


HOSTILE = {
    "xxe": """<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"><bpmn:process id="p" name="&x;"/>
</bpmn:definitions>""",
    "billion_laughs": '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                      + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">'
                                for i in range(1, 10))
                      + ']><bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&lol9;'
                      + "</bpmn:definitions>",
    "external_dtd": '<?xml version="1.0"?><!DOCTYPE d SYSTEM "http://127.0.0.1:9/evil.dtd">'
                    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"/>',
    "deep_nesting": '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">'
                    + "<a>" * 5000 + "</a>" * 5000 + "</bpmn:definitions>",
    "fifty_megabytes": '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">'
                       + "<!-- " + "x" * (50 * 1024 * 1024) + " --></bpmn:definitions>",
    "not_xml": "this is not a BPMN file {}",
    "sandbox_escape": build("evil", [Script("s", "().__class__.__base__.__subclasses__()"), UserTask("t")],
                            agency="'th-amr'"),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_files_are_refused_within_a_second(name: str) -> None:
    started = time.perf_counter()
    issues = verdict(HOSTILE[name])
    assert time.perf_counter() - started < 1.5
    assert issues
    assert not any("root:" in message for _element, message in issues)  # /etc/passwd never read
