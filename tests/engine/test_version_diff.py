"""The readable diff between two versions names what an admin changed, element by element."""

from __future__ import annotations

from pathlib import Path

from engine.bpmn.diff import diff_versions
from engine.bpmn.scaffold import Script, UserTask, build

FORM_V1 = {"type": "object", "properties": {"decision": {"type": "string"}}, "required": ["decision"]}
FORM_V2 = {"type": "object", "properties": {"decision": {"type": "string"}, "reason": {"type": "string"}},
           "required": ["decision", "reason"]}


def test_added_removed_and_changed_elements_are_listed() -> None:
    v1 = build("p", [UserTask("review", "受理审查", form=FORM_V1, deadline="acceptance"), Script("s", "x = 1"),
                     UserTask("close", "办结")], agency="competent_agency")
    v2 = build("p", [UserTask("review", "受理审查（新）", form=FORM_V2, deadline="association_acceptance",
                              lane="supervisor"), Script("s", "x = 2"), UserTask("follow", "回访")],
               agency="competent_agency")
    diff = diff_versions(v1, v2)
    assert [(a["id"], a["name"]) for a in diff["added"]] == [("follow", "回访")]
    assert [(r["id"], r["name"]) for r in diff["removed"]] == [("close", "办结")]
    changes = {c["id"]: c["changes"] for c in diff["changed"]}
    assert changes["review"]["name"] == {"before": "受理审查", "after": "受理审查（新）"}
    assert changes["review"]["lane"] == {"before": "liaison", "after": "supervisor"}
    assert changes["review"]["property:deadline"] == {"before": "acceptance", "after": "association_acceptance"}
    assert changes["review"]["form"] == {"fields_added": ["reason"], "now_required": ["reason"]}
    assert changes["s"] == {"script": {"before": "x = 1", "after": "x = 2"}}


def test_a_file_compared_with_itself_has_no_differences() -> None:
    xml = (Path(__file__).resolve().parents[2] / "workflows" / "complaint_handling.bpmn").read_bytes()
    assert diff_versions(xml, xml) == {"added": [], "removed": [], "changed": []}
