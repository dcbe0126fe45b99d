"""Check a file against the BPMN 2.0 XSD and say what is wrong in Chinese, with its line and element.

The schema is the one SpiffWorkflow validates with (BPMN 2.0 plus the spiffworkflow extension
schema), so a file that passes here passes SpiffWorkflow's own check. SpiffWorkflow keeps only the
last message of libxml2's log, in English and without the element; this module reads the whole log:
each error has a line and names the element's tag, which finds the node, hence the nearest id.

An ``XMLSchema`` keeps its error log on the object, so each thread validates with its own.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.spiff.parser.process import SPIFF_XSD, VALIDATOR

from engine.bpmn.issue_location import local_name, owner
from engine.errors import WorkflowIssue

MAX_SCHEMA_ISSUES = 20
"""Most schema errors reported one by one; the rest are counted in one last issue. A file from
another modeler can break the same rule hundreds of times (one per shape, one per task …)."""

_local = threading.local()


def _schema() -> etree.XMLSchema:
    validator: BpmnValidator | None = getattr(_local, "validator", None)
    if validator is None:
        validator = _local.validator = BpmnValidator(imports={"spiffworkflow": SPIFF_XSD})
    schema: etree.XMLSchema = validator.validator
    return schema


_HEAD = re.compile(r"^Element '(?P<tag>[^']+)'(?:, attribute '(?P<attr>[^']+)')?: (?P<rest>.*)$", re.DOTALL)
_QNAME = re.compile(r"\{[^}]*\}")

TYPE_HINTS = {
    "xs:ID": "id 须以字母或下划线开头，只含字母、数字、-、_、.，且不能以数字开头",
    "xs:IDREF": "须为本文件中某个元素的 id",
    "xs:QName": "须为 id 或 前缀:名称（前缀须已声明）",
    "xs:boolean": "须为 true 或 false",
    "xs:integer": "须为整数",
    "xs:int": "须为整数",
    "xs:double": "须为数字",
    "xs:anyURI": "须为 URI",
}


def _short(tag: str) -> str:
    """``{ns}local`` → ``local`` (a modeler shows the local name, never the namespace)."""
    return _QNAME.sub("", tag)


def _expected(text: str) -> str:
    names = [_short(part.strip()) for part in text.split(",") if part.strip()]
    shown = "、".join(f"<{name}>" for name in names[:6])
    return shown + (f" 等 {len(names)} 种" if len(names) > 6 else "")


def _translate(message: str) -> str:
    """Chinese first, libxml2's English after it (house style 「中文 / English」)."""
    english = message.strip().rstrip(".")
    head = _HEAD.match(english)
    if head is None:
        return f"不符合 BPMN 2.0 架构 (XSD) / does not match the BPMN 2.0 schema: {english}"
    element = f"<{_short(head['tag'])}>"
    attr = _short(head["attr"] or "")
    rest = head["rest"]
    plain = _QNAME.sub("", rest)
    chinese = _rule(element, attr, rest)
    return f"{chinese} / {element}{' @' + attr if attr else ''}: {plain}"


def _of(attr: str) -> str:
    return f"属性 {attr} 的值" if attr else "内容"


def _rule(element: str, attr: str, rest: str) -> str:
    rules: list[tuple[str, Callable[[re.Match[str]], str]]] = [
        (r"Missing child element\(s\)\. Expected is (?:one of )?\( (?P<x>.*) \)",
         lambda m: f"{element} 缺少子元素，应包含 {_expected(m['x'])}"),
        (r"This element is not expected\. Expected is (?:one of )?\( (?P<x>.*) \)",
         lambda m: f"此处不应出现 {element}（顺序或位置不对），此处应为 {_expected(m['x'])}"),
        (r"This element is not expected",
         lambda m: f"此处不应出现 {element}（顺序或位置不对）"),
        (r"The attribute '(?P<a>[^']+)' is required but missing",
         lambda m: f"{element} 缺少必需的属性 {_short(m['a'])}"),
        (r"The attribute '(?P<a>[^']+)' is not allowed",
         lambda m: f"{element} 不允许有属性 {_short(m['a'])}"),
        (r"'(?P<v>.*)' is not a valid value of the atomic type '(?P<t>[^']+)'",
         lambda m: f"{element} 的{_of(attr)} '{m['v'][:80]}' 无效"
                   f"（{TYPE_HINTS.get(m['t'], '须为 ' + m['t'] + ' 类型')}）"),
        (r"The QName value '(?P<v>[^']+)' has no corresponding namespace declaration",
         lambda m: f"{element} 的{_of(attr)} '{m['v']}' 使用了未声明的命名空间前缀"),
        (r"No matching global element declaration available, but demanded by the strict wildcard",
         lambda m: f"无法识别的扩展元素 {element}（其命名空间没有可用的架构），请删除或放入 extensionElements"),
        (r"No matching global declaration available for the validation root",
         lambda m: f"根元素 {element} 不是 BPMN 2.0 的 <definitions>，这不是 BPMN 文件"),
        (r"\[facet 'enumeration'\] The value '(?P<v>[^']*)' is not an element of the set \{(?P<s>[^}]*)\}",
         lambda m: f"{element} 的{_of(attr)} '{m['v']}' 不在允许范围内（{m['s']}）"),
        (r"\[facet '(?P<f>\w+)'\] The value '(?P<v>[^']*)'",
         lambda m: f"{element} 的{_of(attr)} '{m['v'][:80]}' 不符合格式要求"),
        (r"Duplicate key-sequence \[(?P<v>[^\]]*)\]",
         lambda m: f"{element} 的 id {m['v']} 重复"),
        (r"No match found for key-sequence \[(?P<v>[^\]]*)\]",
         lambda m: f"{element} 引用的 {m['v']} 在本文件中不存在"),
        (r"Character content other than whitespace is not allowed",
         lambda m: f"{element} 内不应有文字内容"),
        (r"Element content is not allowed",
         lambda m: f"{element} 内不应有子元素"),
        (r"The value '(?P<v>[^']*)'",
         lambda m: f"{element} 的{_of(attr)} '{m['v'][:80]}' 无效"),
    ]
    for pattern, chinese in rules:
        found = re.search(pattern, rest, re.DOTALL)
        if found is not None:
            return chinese(found)
    return f"{element} 不符合 BPMN 2.0 架构 (XSD)"


def _node(root: etree._Element, error: etree._LogEntry) -> etree._Element | None:
    """The node an error is about: the element of its tag at its line (libxml2's path as a tiebreak)."""
    head = _HEAD.match(error.message)
    if head is None:
        return None
    tag = head["tag"] if head["tag"].startswith("{") else None
    candidates = [node for node in root.iter(tag) if isinstance(node.tag, str) and node.sourceline == error.line
                  and (tag is not None or local_name(node) == head["tag"])]
    if len(candidates) > 1 and error.path:
        try:
            named = root.getroottree().xpath(error.path, namespaces={k: v for k, v in root.nsmap.items() if k})
        except etree.XPathError:
            named = []
        candidates = [node for node in candidates if node in named] or candidates
    return candidates[0] if candidates else None


def schema_issues(root: etree._Element) -> list[WorkflowIssue]:
    """Every XSD error of the file (at most ``MAX_SCHEMA_ISSUES`` and a count), each with a line.

    ``root`` is prepared the way SpiffWorkflow prepares it before its own check (its one fix-up for
    bpmn-js correlation expressions), so both checks agree."""
    VALIDATOR.preprocess(root)  # a pure rewrite of the tree: no state is shared between threads
    schema = _schema()
    if schema.validate(root):
        return []
    issues: list[WorkflowIssue] = []
    seen: set[tuple[str | None, int | None, str]] = set()
    errors = [e for e in schema.error_log if e.level_name in ("ERROR", "FATAL")] or list(schema.error_log)
    for error in errors:
        node = _node(root, error)
        held_by = owner(node) if node is not None else None
        issue = WorkflowIssue(held_by.get("id") if held_by is not None else None, _translate(error.message),
                              (held_by.get("name") or None) if held_by is not None else None,
                              error.line or (node.sourceline if node is not None else None) or root.sourceline)
        if (issue.element_id, issue.line, issue.message) not in seen:
            seen.add((issue.element_id, issue.line, issue.message))
            issues.append(issue)
    if len(issues) > MAX_SCHEMA_ISSUES:
        rest = issues[MAX_SCHEMA_ISSUES:]
        issues = issues[:MAX_SCHEMA_ISSUES]
        issues.append(WorkflowIssue(rest[0].element_id, f"另有 {len(rest)} 处不符合 BPMN 2.0 架构，下一处在第 "
                                    f"{rest[0].line} 行 / {len(rest)} more schema errors, the next at line "
                                    f"{rest[0].line}", rest[0].element_name, rest[0].line))
    return issues
