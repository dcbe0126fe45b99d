"""Validate a BPMN file before it is stored: every problem names the element an admin must fix.

Layers: safe XML → XSD + SpiffWorkflow parse (``loader``) → RestrictedPython compilation of every
script, condition, timer, payload and correlation expression → the product's rules for human tasks
(lane names a role, pool has an ``agency``, form is a JSON Schema, deadline rule exists) and DI.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from lxml import etree

from engine.bpmn.issue_location import with_lines
from engine.bpmn.loader import NS, SpecBundle, TaskDefinition, load_bundle
from engine.bpmn.xml_safety import parse_bpmn_xml
from engine.errors import InvalidWorkflow, ScriptError, WorkflowIssue
from engine.forms import extension_issues
from engine.sandbox import compile_expression, compile_script

ROLES = frozenset({"liaison", "supervisor", "enforcement", "business"})
FLOW_NODE_TAGS = (
    "task", "userTask", "manualTask", "scriptTask", "serviceTask", "sendTask", "receiveTask",
    "businessRuleTask", "callActivity", "subProcess", "startEvent", "endEvent", "intermediateCatchEvent",
    "intermediateThrowEvent", "boundaryEvent", "exclusiveGateway", "parallelGateway", "inclusiveGateway",
    "eventBasedGateway",
)


@dataclass(frozen=True)
class Expression:
    element_id: str
    element_name: str | None
    source: str
    is_script: bool
    what: str


def _expressions(bundle: SpecBundle) -> Iterator[Expression]:
    for process_id, props in bundle.process_properties.items():
        if props.get("agency"):
            yield Expression(process_id, bundle.process_names.get(process_id), props["agency"], False, "agency")
    for spec in bundle.all_specs():
        for task_spec in spec.task_specs.values():
            element_id = task_spec.name
            name = getattr(task_spec, "bpmn_name", None)
            for attr in ("script", "prescript", "postscript"):
                source = getattr(task_spec, attr, None)
                if source:
                    yield Expression(element_id, name, source, True, attr)
            for condition, _target in getattr(task_spec, "cond_task_specs", []) or []:
                if condition is not None:
                    yield Expression(element_id, name, condition.args[0], False, "condition")
            for attr in ("condition", "cardinality"):
                source = getattr(task_spec, attr, None)
                if isinstance(source, str) and source:
                    yield Expression(element_id, name, source, False, attr)
            event_definition = getattr(task_spec, "event_definition", None)
            definitions = getattr(event_definition, "event_definitions", None) or [event_definition]
            for definition in filter(None, definitions):
                source = getattr(definition, "expression", None)
                if isinstance(source, str) and source:
                    yield Expression(element_id, name, source, False, type(definition).__name__)
                for prop in [*getattr(definition, "correlation_properties", []),
                             *getattr(definition, "process_correlations", [])]:
                    yield Expression(element_id, name, prop.retrieval_expression, False, "correlation")
            props = (getattr(task_spec, "extensions", {}) or {}).get("properties", {})
            for attr in ("deadline_from", "deadline_extended"):
                if props.get(attr):
                    yield Expression(element_id, name, props[attr], False, attr)


def compile_all(bundle: SpecBundle) -> list[WorkflowIssue]:
    issues = []
    for expr in _expressions(bundle):
        try:
            (compile_script if expr.is_script else compile_expression)(expr.source)
        except ScriptError as exc:
            issues.append(WorkflowIssue(
                expr.element_id, f"表达式不被允许或有误 / {expr.what} expression rejected: {exc}", expr.element_name))
    return issues


def lint(bundle: SpecBundle, root: etree._Element, known_rules: Collection[str] | None) -> list[WorkflowIssue]:
    issues: list[WorkflowIssue] = []
    for (process_id, _name), task in bundle.tasks.items():
        def issue(message: str, task: TaskDefinition = task) -> None:
            issues.append(WorkflowIssue(task.name, message, task.title))

        if task.lane not in ROLES:
            issue(f"人工任务须位于以角色命名的泳道 (liaison/supervisor/enforcement/business) / a human task must sit "
                  f"in a lane named after a role; found {task.lane!r}")
        if not bundle.process_properties.get(process_id, {}).get("agency"):
            issues.append(WorkflowIssue(process_id, "流程缺少 agency 扩展属性 / the pool has no `agency` "
                                                    "extension property", bundle.process_names.get(process_id)))
        if task.form is None:
            issue("人工任务缺少表单 / the human task declares no `form` JSON Schema")
        else:
            try:
                Draft202012Validator.check_schema(task.form)
            except SchemaError as exc:
                issue(f"表单不是合法的 JSON Schema / form is not a valid JSON Schema: {exc.message}")
            for problem in extension_issues(task.form):  # the product's own keywords (engine.forms)
                issue(problem)
        if task.deadline_rule and known_rules is not None and task.deadline_rule not in known_rules:
            issue(f"未知的期限规则 / unknown deadline rule {task.deadline_rule!r}")
    issues.extend(_missing_di(root))
    return _unique(issues)


MAX_LOOP = 100
"""Most instances of a multi-instance activity and iterations of a loop. The engine creates them in
one step, outside the script sandbox's bounds: a count taken from data (``10**9``, a huge list)
would stop the server, so a loop's size must be a number written in the diagram."""


def loop_issues(root: etree._Element) -> list[WorkflowIssue]:
    """Loops whose size is not a literal within ``MAX_LOOP`` (collections from data included)."""
    issues: list[WorkflowIssue] = []

    def literal(text: str | None) -> int | None:
        text = (text or "").strip()
        return int(text) if text.isdigit() else None

    for node in root.xpath("//bpmn:multiInstanceLoopCharacteristics | //bpmn:standardLoopCharacteristics",
                           namespaces=NS):
        owner = node.getparent()
        if etree.QName(node).localname == "standardLoopCharacteristics":
            size = literal(node.get("loopMaximum"))
            what = "循环任务须设置不超过 {n} 的 loopMaximum / a loop needs a loopMaximum of at most {n}"
        else:
            cardinality = node.find("bpmn:loopCardinality", NS)
            size = literal(cardinality.text) if cardinality is not None else None
            if node.find("bpmn:loopDataInputRef", NS) is not None:
                size = None
            what = ("多实例任务的实例数须为不超过 {n} 的数字（不支持按数据集合展开）/ a multi-instance activity needs "
                    "a literal loopCardinality of at most {n} (input collections are not supported)")
        if size is None or not 1 <= size <= MAX_LOOP:
            issues.append(WorkflowIssue(owner.get("id"), what.format(n=MAX_LOOP), owner.get("name")))
    return issues


def _unique(issues: list[WorkflowIssue]) -> list[WorkflowIssue]:
    seen: set[tuple[str | None, str]] = set()
    result = []
    for issue in issues:
        if (issue.element_id, issue.message) not in seen:
            seen.add((issue.element_id, issue.message))
            result.append(issue)
    return result


def _missing_di(root: etree._Element) -> list[WorkflowIssue]:
    drawn = set(root.xpath("//bpmndi:BPMNShape/@bpmnElement | //bpmndi:BPMNEdge/@bpmnElement", namespaces=NS))
    issues = []
    for tag in FLOW_NODE_TAGS:
        for node in root.xpath(f"//bpmn:process//bpmn:{tag}", namespaces=NS):
            if node.get("id") not in drawn:
                issues.append(WorkflowIssue(node.get("id"), "缺少图形信息 (BPMN DI) / the element has no diagram "
                                                            "shape (BPMN DI)", node.get("name")))
    return issues


FOREIGN_DIALECTS = {
    "http://camunda.org/schema/1.0/bpmn": "Camunda 7",
    "http://camunda.org/schema/zeebe/1.0": "Camunda 8 (Zeebe)",
    "http://activiti.org/bpmn": "Activiti",
    "http://flowable.org/bpmn": "Flowable",
    "http://www.signavio.com": "Signavio",
    "http://www.bizagi.com/bpmn20": "Bizagi",
}
UNSUPPORTED_EVENTS = {
    "compensateEventDefinition": "补偿事件 / compensation events",
    "linkEventDefinition": "链接事件 / link events",
}
_CYCLE_WITH_COUNT = re.compile(r"R\d+/")


def dialect_issues(root: etree._Element) -> list[WorkflowIssue]:
    """What files from other modelers use that this engine does not run — reported, never crashed on."""
    issues: list[WorkflowIssue] = []
    for node in root.iter():
        if not isinstance(node.tag, str):
            continue
        element = _owner(node)
        namespace = etree.QName(node).namespace
        if namespace in FOREIGN_DIALECTS:
            issues.append(WorkflowIssue(element.get("id"), f"不支持 {FOREIGN_DIALECTS[namespace]} 扩展 "
                                        f"<{etree.QName(node).localname}> / {FOREIGN_DIALECTS[namespace]} extension "
                                        f"elements are not supported: model forms, lanes and the pool `agency` with "
                                        f"spiffworkflow properties", element.get("name")))
        for attribute in node.attrib:
            attr_ns = etree.QName(attribute).namespace
            if attr_ns in FOREIGN_DIALECTS:
                dialect, name = FOREIGN_DIALECTS[attr_ns], etree.QName(attribute).localname
                issues.append(WorkflowIssue(node.get("id") or element.get("id"),
                                            f"不支持 {dialect} 属性 {name} / {dialect} attributes are not supported",
                                            node.get("name")))
        local = etree.QName(node).localname
        if local in UNSUPPORTED_EVENTS:
            issues.append(WorkflowIssue(element.get("id"), f"不支持{UNSUPPORTED_EVENTS[local]} / unsupported event "
                                                           f"type {local}", element.get("name")))
        if local in {"conditionExpression", "timeDate", "timeDuration", "timeCycle", "formalExpression",
                     "completionCondition", "loopCardinality"}:
            text = (node.text or "").strip()
            language = (node.get("language") or "").lower()
            if text.startswith("=") or "feel" in language or text.startswith("${") or text.startswith("#{"):
                issues.append(WorkflowIssue(element.get("id"), "不支持 FEEL/JUEL 表达式，请写 Python 表达式 / FEEL and "
                                                               f"JUEL expressions are not supported: {text[:60]!r}",
                                            element.get("name")))
            elif local == "timeCycle" and "R" in text and not _CYCLE_WITH_COUNT.search(text):
                message = "定时循环须指定次数 (如 R3/P1D) / timer cycles need a repeat count (e.g. R3/P1D)"
                issues.append(WorkflowIssue(element.get("id"), message, element.get("name")))
    return _unique(issues)


def _owner(node: etree._Element) -> etree._Element:
    """The nearest enclosing element with an id (what the admin can find in the modeler)."""
    current: etree._Element | None = node
    while current is not None and current.get("id") is None:
        current = current.getparent()
    return current if current is not None else node


def message_issues(root: etree._Element, external_catchers: Collection[str]) -> list[WorkflowIssue]:
    """Every message thrown here needs a catcher here or in a deployed workflow (e.g. a case process)."""
    names = {m.get("id"): m.get("name") or m.get("id") for m in root.xpath("//bpmn:message", namespaces=NS)}
    caught = {names.get(ref) for ref in root.xpath(
        "//bpmn:startEvent//bpmn:messageEventDefinition/@messageRef | "
        "//bpmn:intermediateCatchEvent//bpmn:messageEventDefinition/@messageRef | "
        "//bpmn:boundaryEvent//bpmn:messageEventDefinition/@messageRef | //bpmn:receiveTask/@messageRef",
        namespaces=NS)}
    issues = []
    for node in root.xpath("//bpmn:intermediateThrowEvent | //bpmn:endEvent | //bpmn:sendTask", namespaces=NS):
        refs = node.xpath(".//bpmn:messageEventDefinition/@messageRef", namespaces=NS) + (
            [node.get("messageRef")] if node.get("messageRef") else [])
        for ref in refs:
            name = names.get(ref, ref)
            if name not in caught and name not in external_catchers:
                issues.append(WorkflowIssue(node.get("id"), f"消息 {name} 无接收方 / nobody catches message {name!r} "
                                                            "(in this file or a deployed workflow)", node.get("name")))
    return issues


def validate_bpmn(
    xml: bytes | str,
    filename: str = "upload.bpmn",
    known_rules: Collection[str] | None = None,
    extra_rules: Callable[[SpecBundle], list[WorkflowIssue]] | None = None,
    external_catchers: Collection[str] | None = None,
) -> SpecBundle:
    """Return the parsed bundle, or raise ``InvalidWorkflow`` with every issue found.

    ``external_catchers``: messages that deployed workflows start on; when given, a thrown message
    that nobody catches is an error."""
    root = parse_bpmn_xml(xml)
    foreign = dialect_issues(root)
    try:
        bundle, root = load_bundle(xml, filename)
    except InvalidWorkflow as exc:
        raise InvalidWorkflow(with_lines(foreign + exc.issues, root)) from None
    issues = foreign + compile_all(bundle) + lint(bundle, root, known_rules) + loop_issues(root)
    if external_catchers is not None:
        issues += message_issues(root, external_catchers)
    if extra_rules is not None:
        issues += extra_rules(bundle)
    if issues:
        raise InvalidWorkflow(with_lines(issues, root))
    return bundle
