"""A readable difference between two versions of a BPMN file, element by element.

Admins compare versions before deploying: which steps were added or removed, and what changed in
the ones kept — names, lanes, forms (fields added, removed, newly required), deadline rules,
conditions, scripts, timers and messages.
"""

from __future__ import annotations

import json
from typing import Any

from lxml import etree

from engine.bpmn.loader import NS
from engine.bpmn.xml_safety import parse_bpmn_xml

_FLOW_TAGS = {
    "task", "userTask", "manualTask", "scriptTask", "serviceTask", "sendTask", "receiveTask", "businessRuleTask",
    "callActivity", "subProcess", "startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent",
    "boundaryEvent", "exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway", "sequenceFlow",
}


def _text(node: etree._Element, path: str) -> str | None:
    found = node.xpath(path, namespaces=NS)
    if not found:
        return None
    value = found[0] if isinstance(found[0], str) else found[0].text
    return value.strip() if value else None


def _describe(node: etree._Element, lanes: dict[str, str], messages: dict[str, str]) -> dict[str, Any]:
    props = {p.get("name"): p.get("value") for p in node.xpath(
        "./bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", namespaces=NS)}
    form = props.pop("form", None)
    message_ref = _text(node, ".//bpmn:messageEventDefinition/@messageRef") or node.get("messageRef")
    return {key: value for key, value in {
        "type": etree.QName(node).localname,
        "name": node.get("name"),
        "process": node.xpath("ancestor::bpmn:process[1]/@id", namespaces=NS)[0],
        "lane": lanes.get(node.get("id", "")),
        "form": json.loads(form) if form else None,
        **{f"property:{k}": v for k, v in sorted(props.items())},
        "condition": _text(node, "./bpmn:conditionExpression"),
        "script": _text(node, "./bpmn:script"),
        "timer": _text(node, ".//bpmn:timerEventDefinition/*"),
        "message": messages.get(message_ref or "", message_ref),
        "source": node.get("sourceRef"),
        "target": node.get("targetRef"),
        "attached_to": node.get("attachedToRef"),
    }.items() if value is not None}


def elements(xml: bytes | str) -> dict[str, dict[str, Any]]:
    root = parse_bpmn_xml(xml)
    lanes = {ref.text.strip(): lane.get("name") or lane.get("id")
             for lane in root.xpath("//bpmn:lane", namespaces=NS)
             for ref in lane.xpath("./bpmn:flowNodeRef", namespaces=NS) if ref.text}
    messages = {m.get("id"): m.get("name") or m.get("id") for m in root.xpath("//bpmn:message", namespaces=NS)}
    result = {}
    for node in root.xpath("//bpmn:process//*[@id]", namespaces=NS):
        if etree.QName(node).localname in _FLOW_TAGS:
            result[node.get("id")] = _describe(node, lanes, messages)
    return result


def _form_changes(before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, Any]:
    old_fields = set((before or {}).get("properties", {}))
    new_fields = set((after or {}).get("properties", {}))
    old_required, new_required = set((before or {}).get("required", [])), set((after or {}).get("required", []))
    changes = {
        "fields_added": sorted(new_fields - old_fields),
        "fields_removed": sorted(old_fields - new_fields),
        "now_required": sorted(new_required - old_required),
        "no_longer_required": sorted(old_required - new_required),
        "fields_changed": sorted(f for f in old_fields & new_fields
                                 if (before or {})["properties"][f] != (after or {})["properties"][f]),
    }
    return {k: v for k, v in changes.items() if v} or {"schema_changed": True}


def diff_versions(old_xml: bytes | str, new_xml: bytes | str) -> dict[str, Any]:
    """``{"added": [...], "removed": [...], "changed": [{"id", "name", "changes": {field: {before, after}}}]}``."""
    old, new = elements(old_xml), elements(new_xml)
    changed = []
    for element_id in sorted(old.keys() & new.keys()):
        before, after = old[element_id], new[element_id]
        changes: dict[str, Any] = {}
        for key in sorted(before.keys() | after.keys()):
            if before.get(key) == after.get(key):
                continue
            if key == "form":
                changes["form"] = _form_changes(before.get("form"), after.get("form"))
            else:
                changes[key] = {"before": before.get(key), "after": after.get(key)}
        if changes:
            changed.append({"id": element_id, "name": after.get("name") or before.get("name"), "changes": changes})

    def listing(ids: set[str], source: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
        return [{"id": i, "type": source[i]["type"], "name": source[i].get("name"), "process": source[i]["process"]}
                for i in sorted(ids)]

    return {"added": listing(new.keys() - old.keys(), new), "removed": listing(old.keys() - new.keys(), old),
            "changed": changed}
