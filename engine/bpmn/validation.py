"""Validate a BPMN file before it is stored: every problem names the element an admin must fix.

Layers: safe XML → XSD + SpiffWorkflow parse (``loader``) → RestrictedPython compilation of every
script, condition, timer, payload and correlation expression → the product's rules for human tasks
(lane names a role, pool has an ``agency``, form is a JSON Schema, deadline rule exists) and DI.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from lxml import etree

from engine.bpmn.loader import NS, SpecBundle, TaskDefinition, load_bundle
from engine.errors import InvalidWorkflow, ScriptError, WorkflowIssue
from engine.sandbox import compile_expression, compile_script

ROLES = frozenset({"liaison", "supervisor", "enforcement"})
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
            issue(f"人工任务须位于以角色命名的泳道 (liaison/supervisor/enforcement) / a human task must sit in a lane "
                  f"named after a role; found {task.lane!r}")
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
        if task.deadline_rule and known_rules is not None and task.deadline_rule not in known_rules:
            issue(f"未知的期限规则 / unknown deadline rule {task.deadline_rule!r}")
    issues.extend(_missing_di(root))
    return _unique(issues)


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


def validate_bpmn(
    xml: bytes | str,
    filename: str = "upload.bpmn",
    known_rules: Collection[str] | None = None,
    extra_rules: Callable[[SpecBundle], list[WorkflowIssue]] | None = None,
) -> SpecBundle:
    """Return the parsed bundle, or raise ``InvalidWorkflow`` with every issue found."""
    bundle, root = load_bundle(xml, filename)
    issues = compile_all(bundle) + lint(bundle, root, known_rules)
    if extra_rules is not None:
        issues += extra_rules(bundle)
    if issues:
        raise InvalidWorkflow(issues)
    return bundle
